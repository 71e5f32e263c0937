"""Conversations handed to a person: the staff queue behind the bot's 转人工 (human agent) request.

A citizen's request waits in the queue until a staff member answers it; the answer goes to the citizen
through the notifications outbox. Rows hold personal data (the openid and what was written), so
``erase_user`` deletes them when the citizen unsubscribes.
"""
