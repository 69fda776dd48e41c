"""Local fake provider APIs for tests and the demo."""
