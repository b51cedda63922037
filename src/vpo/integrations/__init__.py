"""Sonarr/Radarr hooks (custom script, later webhooks and metadata), issue 15."""
