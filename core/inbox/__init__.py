"""What needs a person, in one queue ("Needs you"): ``queue`` (the items and the answers),
``actions`` (what a stalled or stranded item offers), ``service`` (``InboxBook``, what the
front ends call: ``service.inbox``)."""
