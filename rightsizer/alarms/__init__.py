"""CloudWatch-semantics metric alarms: definitions, evaluation, history, actions, replay.

    definition   AlarmDefinition: PutMetricAlarm fields, checked (errors name the field)
    sources      load_alarms(): JSON files and rightsizer.toml [[alarm]] tables; seed_alarm()
    state        AlarmState, ComparisonOperator, TreatMissingData
    evaluation   the engine: one boundary, one window -> state, reason, reason data
    reason       CloudWatch's reason strings, Java number format
    timeline     Tracker, Transition, evaluate_series() over every boundary
    live         LiveAlarms: evaluated at each boundary while a run goes, once complete
    actions      ActionRunner: log, webhook, command, stop-run (on transitions only)
    webhook      post_json(): the webhook POST, bounded in answer size and total time
    command      run_command(): the command action's shell, bounded in time and output kept
    history      transitions, definitions and action outcomes in a run's metrics.db
    outcome      alarm_outcome(), alarm_onset(): what one alarm did over a run
    replay       replay() settings over a recorded run against its SLO, recommend()
    export       CloudWatch JSON, CloudFormation, Prometheus rules
    offline      `rightsizer alarm evaluate` as a library call

The semantics are those of shared/docs/alarm-semantics.md.
"""
