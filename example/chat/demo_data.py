"""What ``setup_demo`` creates, importable before Django is set up (``demo.py`` prints
the logins)."""

PASSWORD = "demo1234"

#: (username, member of the staff room group, superuser)
USERS = [("alice", True, False), ("bob", False, False), ("admin", False, True)]

#: (slug = channel name, title, description)
ROOMS = [
    ("lobby", "Lobby", "Everyone is welcome."),
    ("random", "Random", "Anything goes."),
    ("staff", "Staff room", "Members of the staff room group only."),
]
#: The room only members of the staff room group may join; the others admit everyone.
PROTECTED_ROOM = "staff"

#: What the local gateway sends as X-Amzn-Apigateway-Api-Id, and its stage.
API_ID = "demo"
STAGE = "local"
