"""The spendwatch CDK app: asset bundling and the stack's constructs."""
