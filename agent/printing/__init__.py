"""Printing: printer supervisors, print jobs, previews, the durable queue, templates."""
