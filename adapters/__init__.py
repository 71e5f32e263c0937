"""I/O shared by several entry points: the port implementations (in-process and Redis), the WeChat
API client, the media store."""
