from django.db import models


class Room(models.Model):
    """A chat room. Its slug is the WebSocket channel name of everyone in it."""

    slug = models.SlugField(max_length=128, unique=True)
    title = models.CharField(max_length=100)
    description = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["title"]
        permissions = [("join_staff_room", "Can join the staff room")]

    def __str__(self) -> str:
        return self.title
