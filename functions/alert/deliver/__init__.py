"""The deliver function: new alert items on the stream (the outbox) go out on every channel, once each."""
