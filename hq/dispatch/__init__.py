"""Cloud print dispatch: submissions, delivery to boxes, job state history."""
