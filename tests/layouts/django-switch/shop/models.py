from django.db import models


class Widget(models.Model):
    name = models.TextField(null=True)

    class Meta:
        db_table = "widgets"
