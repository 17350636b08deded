"""Customer displays (客显): the ESC/POS 2×20 display command set and the LED price display."""
