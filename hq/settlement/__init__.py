"""Daily settlement per box and Z period, reconciled against signed day closes."""
