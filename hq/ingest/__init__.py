"""Journal ingest: verification of box uploads, countersigned acknowledgements, alarms."""
