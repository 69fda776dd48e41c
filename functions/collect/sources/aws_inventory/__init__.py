"""The AWS inventory a Cost Explorer source reads with ``inventory = true``, in four parts.

- ``reader``: the run (``read_inventory``): which kinds, which types make the catalogue, notes on missing prices;
- ``ec2``: DescribeInstances, DescribeInstanceTypes, DescribeVolumes, DescribeAddresses into inventory models;
- ``metrics``: CloudWatch GetMetricData, 250 instances a request, into daily CPU utilisation usage items;
- ``prices``: the Price List Query API (GetProducts) and its product documents, parsed exactly.
"""

from collect.sources.aws_inventory.reader import read_inventory

__all__ = ["read_inventory"]
