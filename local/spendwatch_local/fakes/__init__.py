"""Local fake HTTP APIs (DigitalOcean, OpenCost, Vercel, a Slack webhook) for the demo and the tests, on 127.0.0.1."""
