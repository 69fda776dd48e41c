"""Local fake provider APIs (DigitalOcean, OpenCost, Vercel) for the demo and the tests: threads on 127.0.0.1."""
