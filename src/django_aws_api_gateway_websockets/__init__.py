"""WebSockets for Django, with AWS API Gateway holding the connections."""
