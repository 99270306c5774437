"""Sending messages to connections through API Gateway's Management API.

``endpoint`` resolves where a gateway's Management API is, ``signing`` signs requests
with botocore's SigV4 signer, ``policy`` holds the decisions (retries, back-off, pacing)
as plain code, ``transport`` posts over pooled HTTP connections on one event loop per
process, ``send`` delivers to one session, ``fanout`` to a queryset, and ``background``
splits a fan-out into tasks for Django's task framework.
"""
