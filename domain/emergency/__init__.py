"""Emergency context: incidents, grading under the 2007 accident regulations, reporting clocks,
response plans, the resources registry, one-click dispatch and the incident timeline."""
