"""AWS itself: CloudWatch metrics and alarms, and the ECS service a run scales.

Every call goes through boto3 with credentials from the standard chain (environment, profile,
role); none is ever a flag or written anywhere, and boto3 is imported only when a call is made.
    connection           the region and endpoint, the clients, botocore's errors as ours
    deployed_alarm       an alarm as deployed: pull (DescribeAlarms), push (PutMetricAlarm), diff
    cloudwatch_metrics   GetMetricData over a run window into the run's metric store
    ecs_service          DescribeServices, UpdateService, waiting until the service is stable
    alarm_history        DescribeAlarmHistory, and DescribeAlarms polled during a run
    deployed_alarm_watch a deployed alarm through one run, compared with our evaluation
"""
