"""The deployment's own monthly AWS cost at list prices: ``spendwatch cost-of-running``.

``prices`` reads the list prices (``aws_list_prices.json``: each price with its unit, free tier and source page),
``schedules`` turns a schedule expression into runs a month, ``footprint`` says what the stack deploys and what
each part is assumed to do, and ``estimate`` derives the month's volumes from the config and prices them.
"""
