"""Django system checks over the settings and the routed WebSocket views."""
