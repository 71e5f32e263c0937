"""A local stand-in for the WeChat API (``server.WeChatStub``) and its pytest plugin (``plugin``)."""
