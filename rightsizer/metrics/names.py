"""The catalogue of series rightsizer records: names and dimensions follow CloudWatch's
(AWS/ECS and AWS/ApplicationELB) so that an alarm rehearsed here reads like the one in AWS.

Every series lives in namespace `rightsizer`. Units in brackets.

Per task, dimensions {ServiceName, TaskId}, one sample per task per sampling tick:
    CPUUtilization          [Percent] CPU time used / (reserved vCPU x interval) x 100
    MemoryUtilization       [Percent] memory in use (RSS + page cache - inactive page cache,
                            as Docker and the ECS agent count it) / limit x 100
    MemoryRSS, MemoryCache  [Bytes]
    CPUThrottledPeriods     [Count]   CFS periods throttled during the interval
Service level, dimensions {ServiceName}: CPUUtilization and MemoryUtilization get one sample
    per running task per tick, so a period's Average is the average across tasks and its
    Maximum the busiest task, as ECS publishes them; RunningTaskCount [Count] one per tick.
Load balancer, dimensions {LoadBalancer} (and {LoadBalancer, TaskId} per target):
    HealthyHostCount, UnHealthyHostCount [Count]
    RequestCount, HTTPCode_Target_2XX_Count .. HTTPCode_Target_5XX_Count [Count] per tick
    TargetResponseTime      [Seconds] HAProxy's average over its last requests
Client side (the load generator), dimensions {} or {Name} for one request name:
    ClientRequestCount, ClientFailureCount [Count] per second
    ClientRPS               [Count/Second]
    ClientFailureRate       [Percent]
    ClientResponseTime      [Milliseconds] one sample per request, so pNN is exact
    ClientUsers             [Count]
    GeneratorCPUUtilization [Percent] of one core, the generator process (and its workers)
Pods read from Prometheus (run --prometheus), per pod {ServiceName, TaskId=the pod's name}:
    CPUCores                [vCPU]    rate of cAdvisor's container_cpu_usage_seconds_total
    MemoryWorkingSet        [Bytes]   cAdvisor's container_memory_working_set_bytes
    and, for a pod with kube-state-metrics limits, CPUUtilization and MemoryUtilization in %
    of them, per pod and at service level as above, with RunningTaskCount (pods with data).
The sampler itself, no dimensions, only in a run where writing to the store failed:
    SamplerWriteFailures    [Count]   failed writes since the previous stored batch, stamped
                            at the tick whose batch (with the samples kept since) was stored
"""

from __future__ import annotations

NAMESPACE = "rightsizer"
SERVICE_DIMENSION = "ServiceName"
TASK_DIMENSION = "TaskId"
LB_DIMENSION = "LoadBalancer"
REQUEST_NAME_DIMENSION = "Name"
PROCESS_DIMENSION = "Process"
DEFAULT_SERVICE = "uploader"
# An ECS service's own metrics, read from CloudWatch by a run with --ecs (rightsizer.aws):
# namespace AWS/ECS, dimensions {ClusterName, ServiceName}, one sample a period.
ECS_NAMESPACE = "AWS/ECS"
# A statistic other than the one stored under CloudWatch's own names (read from CloudWatch by
# `run --ecs`: the Maximum next to the Average) is stored with this extra dimension, its value
# the statistic's name (MetricKey.of_statistic).
STATISTIC_DIMENSION = "Statistic"
CLUSTER_DIMENSION = "ClusterName"
DEFAULT_LOAD_BALANCER = "rightsizer-lb"

CPU_UTILIZATION = "CPUUtilization"
MEMORY_UTILIZATION = "MemoryUtilization"
MEMORY_RSS = "MemoryRSS"
MEMORY_CACHE = "MemoryCache"
CPU_THROTTLED_PERIODS = "CPUThrottledPeriods"
RUNNING_TASK_COUNT = "RunningTaskCount"
CPU_CORES = "CPUCores"
MEMORY_WORKING_SET = "MemoryWorkingSet"

HEALTHY_HOST_COUNT = "HealthyHostCount"
UNHEALTHY_HOST_COUNT = "UnHealthyHostCount"
REQUEST_COUNT = "RequestCount"
TARGET_2XX = "HTTPCode_Target_2XX_Count"
TARGET_3XX = "HTTPCode_Target_3XX_Count"
TARGET_4XX = "HTTPCode_Target_4XX_Count"
TARGET_5XX = "HTTPCode_Target_5XX_Count"
TARGET_RESPONSE_TIME = "TargetResponseTime"

CLIENT_REQUEST_COUNT = "ClientRequestCount"
CLIENT_FAILURE_COUNT = "ClientFailureCount"
CLIENT_RPS = "ClientRPS"
CLIENT_FAILURE_RATE = "ClientFailureRate"
CLIENT_RESPONSE_TIME = "ClientResponseTime"
CLIENT_USERS = "ClientUsers"
GENERATOR_CPU = "GeneratorCPUUtilization"
# One series per generator process (dimension Process: "master", "local", or a worker's id).
GENERATOR_PROCESS_CPU = "GeneratorProcessCPUUtilization"
# ... and how busy each was: on a core or waiting for one (rightsizer.load.generator).
GENERATOR_PROCESS_BUSY = "GeneratorProcessBusy"

SAMPLER_WRITE_FAILURES = "SamplerWriteFailures"
