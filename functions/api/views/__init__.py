"""What is rendered from the data: the overview figures, the dashboard page and its trend chart."""
