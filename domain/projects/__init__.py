"""Projects context: construction projects, sites, enterprises, people, devices and cameras."""
