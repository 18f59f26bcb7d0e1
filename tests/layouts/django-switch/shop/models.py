from django.db import models


class Widget(models.Model):
    id = models.BigAutoField(primary_key=True)
    name = models.TextField(null=True)

    class Meta:
        db_table = "widgets"
