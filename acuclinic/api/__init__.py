"""The JSON API (django-ninja): appointment requests from other software, validated like the web form."""
