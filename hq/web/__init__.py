"""HQ's HTTP side: the JSON API, the dashboard page and its static files."""
