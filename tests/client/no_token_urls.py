"""No URL named websocket_token."""

urlpatterns: list = []
