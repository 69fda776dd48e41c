"""One construct per concern, wired together by :class:`SpendwatchStack`."""
