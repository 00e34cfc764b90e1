"""Status reads, verification queries and work lists: the status rules applied to linked
records under a gate decision, showing only what the decision's disclosure scope allows."""
