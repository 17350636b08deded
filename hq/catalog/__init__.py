"""HQ's product catalog: names, prices and the costs reports compute gross margin with."""
