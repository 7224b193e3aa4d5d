"""rightsizer: measure how far the smallest task goes, where its CPU alarm belongs, how many
tasks are needed; with real cgroup caps, HAProxy, Locust and CloudWatch-style alarms."""

__version__ = "0.1.0"
