"""spendwatch local runtime: embedded AWS, schedules, stream poller and API gateway."""
