"""HTTP plumbing the box and HQ share: the edge policy (Host, Origin, content type) and the
connection guard (caps, header deadline, rate-limited accept errors)."""
