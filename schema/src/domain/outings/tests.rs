//! Unit tests of the outing rules.

use chrono::{DateTime, Duration, Utc};

use super::*;

#[test]
fn every_status_and_action_pair_is_decided() {
    use OutingAction as A;
    use OutingStatus as S;
    let allowed = [
        (S::Proposed, A::Approve, S::Planned),
        (S::Proposed, A::Cancel, S::Cancelled),
        (S::Planned, A::Cancel, S::Cancelled),
        (S::Planned, A::Start, S::InProgress),
        (S::InProgress, A::Complete, S::Completed),
        (S::Escalated, A::Complete, S::Completed),
        (S::InProgress, A::Escalate, S::Escalated),
        (S::Escalated, A::Escalate, S::Escalated),
        (S::Escalated, A::Recover, S::InProgress),
        (S::InProgress, A::Extend, S::InProgress),
        (S::Escalated, A::Extend, S::Escalated),
        (S::InProgress, A::CheckIn, S::InProgress),
        (S::Escalated, A::CheckIn, S::Escalated),
    ];
    for from in OutingStatus::ALL {
        for action in OutingAction::ALL_ACTIONS {
            let expected = allowed
                .iter()
                .find(|(f, a, _)| f == from && *a == action)
                .map(|(_, _, to)| *to);
            match expected {
                Some(to) => assert_eq!(transition(*from, action), Ok(to), "{from} + {action}"),
                None => assert!(transition(*from, action).is_err(), "{from} + {action}"),
            }
        }
    }
}

#[test]
fn who_may_take_which_step() {
    let coordinator = OutingActor {
        is_coordinator: true,
        is_supporter_of_outing: false,
        is_member: false,
    };
    let supporter = OutingActor {
        is_coordinator: false,
        is_supporter_of_outing: true,
        is_member: true,
    };
    let participant = OutingActor {
        is_coordinator: false,
        is_supporter_of_outing: false,
        is_member: true,
    };
    let stranger = OutingActor {
        is_coordinator: false,
        is_supporter_of_outing: false,
        is_member: false,
    };
    use OutingAction as A;
    for action in A::ALL_ACTIONS {
        assert!(!may_act(stranger, action), "{action}");
    }
    assert!(may_act(coordinator, A::Approve) && !may_act(supporter, A::Approve));
    assert!(may_act(supporter, A::Start) && !may_act(coordinator, A::Start));
    assert!(!may_act(participant, A::Start) && !may_act(participant, A::Complete));
    assert!(may_act(participant, A::CheckIn) && may_act(supporter, A::CheckIn));
    assert!(may_act(supporter, A::Extend) && !may_act(participant, A::Extend));
    assert!(!may_act(coordinator, A::Escalate) && !may_act(supporter, A::Recover));
}

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + Duration::minutes(minutes)
}

fn watch() -> Watch {
    Watch {
        check_in_due_at: at(30),
        grace: Duration::minutes(10),
        done: None,
        planned_end: at(120),
        overdue_alerted: false,
    }
}

#[test]
fn the_ladder_prompts_reminds_then_alerts() {
    let w = watch();
    assert_eq!(w.next_look(), Some(at(30)));
    assert_eq!(w.actions(at(29)).0, vec![]);
    let (actions, w) = w.actions(at(30));
    assert_eq!(actions, vec![WatchAction::Prompt(WatchStep::Prompted)]);
    assert_eq!(w.next_look(), Some(at(35)));
    assert_eq!(w.actions(at(34)).0, vec![]);
    let (actions, w) = w.actions(at(35));
    assert_eq!(actions, vec![WatchAction::Prompt(WatchStep::Reprompted)]);
    assert_eq!(w.next_look(), Some(at(40)));
    let (actions, w) = w.actions(at(40));
    assert_eq!(actions, vec![WatchAction::RaiseMissedCheckIn]);
    // After the alert only the overdue deadline remains.
    assert_eq!(w.next_look(), Some(at(130)));
    let (actions, w) = w.actions(at(130));
    assert_eq!(actions, vec![WatchAction::RaiseOverdue]);
    assert_eq!(w.next_look(), None);
    assert_eq!(w.actions(at(500)).0, vec![]);
}

#[test]
fn after_downtime_only_the_furthest_step_is_taken() {
    let (actions, w) = watch().actions(at(45));
    assert_eq!(actions, vec![WatchAction::RaiseMissedCheckIn]);
    assert_eq!(w.done, Some(WatchStep::Alerted));
    let (actions, _) = watch().actions(at(200));
    assert_eq!(
        actions,
        vec![WatchAction::RaiseMissedCheckIn, WatchAction::RaiseOverdue]
    );
}

#[test]
fn urgent_check_ins_raise_alerts_at_their_tier() {
    assert_eq!(CheckInKind::Ok.raises(), None);
    assert_eq!(
        CheckInKind::NeedHelp.raises(),
        Some((AlertReason::NeedHelp, AlertTier::OnDuty))
    );
    assert_eq!(
        CheckInKind::Separated.raises(),
        Some((AlertReason::Separated, AlertTier::OnDuty))
    );
    assert_eq!(
        CheckInKind::Sos.raises(),
        Some((AlertReason::Sos, AlertTier::Everyone))
    );
    assert_eq!(AlertTier::OnDuty.next(), AlertTier::Everyone);
    assert_eq!(AlertTier::Everyone.next(), AlertTier::Exhausted);
    assert_eq!(AlertTier::Exhausted.next(), AlertTier::Exhausted);
}

#[test]
fn check_in_times_allow_for_clocks_that_drift_both_ways() {
    let start = Some(at(0));
    let now = at(20);
    let ok = CheckInKind::Ok;
    let sos = CheckInKind::Sos;
    assert_eq!(check_in_made_at(None, ok, start, now), Some(now));
    assert_eq!(check_in_made_at(Some(at(10)), ok, start, now), Some(at(10)));
    assert_eq!(check_in_made_at(Some(at(0)), ok, start, now), Some(at(0)));
    // A phone up to two minutes ahead: taken as now; further ahead: refused.
    assert_eq!(check_in_made_at(Some(at(22)), ok, start, now), Some(now));
    assert_eq!(check_in_made_at(Some(at(23)), ok, start, now), None);
    // Up to two minutes before the start: taken as the start; further: refused.
    assert_eq!(check_in_made_at(Some(at(-2)), ok, start, now), Some(at(0)));
    assert_eq!(check_in_made_at(Some(at(-3)), ok, start, now), None);
    // An SOS is never refused for its time: far off is taken as now.
    assert_eq!(check_in_made_at(Some(at(600)), sos, start, now), Some(now));
    assert_eq!(check_in_made_at(Some(at(-600)), sos, start, now), Some(now));
    assert_eq!(check_in_made_at(Some(at(5)), sos, start, now), Some(at(5)));
    // An SOS on an outing not started: its time if within the last hour, else now.
    assert_eq!(
        check_in_made_at(Some(at(-30)), sos, None, now),
        Some(at(-30))
    );
    assert_eq!(check_in_made_at(Some(at(-300)), sos, None, now), Some(now));
}

#[test]
fn accepted_check_in_times_lie_between_the_start_and_now_for_any_input() {
    // Every phone time from ten hours before to ten hours after, minute by minute.
    let start = at(0);
    let now = at(90);
    for kind in CheckInKind::ALL {
        for offset in -600..=700 {
            let made = at(offset);
            match check_in_made_at(Some(made), *kind, Some(start), now) {
                Some(taken) => {
                    assert!(taken >= start && taken <= now, "{kind} {offset}: {taken}");
                    let off_by = (taken - made).num_minutes().abs();
                    assert!(
                        off_by <= CLOCK_DRIFT_MINUTES || *kind == CheckInKind::Sos,
                        "{kind} {offset}"
                    );
                }
                None => {
                    assert_ne!(*kind, CheckInKind::Sos, "an SOS is never refused");
                    assert!(
                        made > now + Duration::minutes(CLOCK_DRIFT_MINUTES)
                            || made < start - Duration::minutes(CLOCK_DRIFT_MINUTES),
                        "{offset}"
                    );
                }
            }
        }
    }
    assert_eq!(next_deadline(at(10), Duration::minutes(30)), at(40));
}

#[test]
fn an_sos_counts_on_the_day_while_under_way_and_for_an_hour_after() {
    use OutingStatus as S;
    let now = at(0);
    assert!(sos_counts(S::InProgress, false, None, now));
    assert!(sos_counts(S::Escalated, false, None, now));
    assert!(sos_counts(S::Planned, true, None, now));
    assert!(sos_counts(S::Proposed, true, None, now));
    assert!(!sos_counts(S::Planned, false, None, now));
    assert!(sos_counts(S::Completed, false, Some(at(-60)), now));
    assert!(!sos_counts(S::Completed, false, Some(at(-61)), now));
    assert!(sos_counts(S::Cancelled, true, Some(at(-5)), now));
    assert!(!sos_counts(S::Completed, true, None, now));
}

#[test]
fn joining_keeps_the_most_urgent_reason_and_the_highest_tier() {
    use AlertReason as R;
    use AlertTier as T;
    assert_eq!(
        joined(R::MissedCheckIn, T::OnDuty, CheckInKind::NeedHelp),
        (R::NeedHelp, T::OnDuty)
    );
    assert_eq!(
        joined(R::NeedHelp, T::OnDuty, CheckInKind::Sos),
        (R::Sos, T::Everyone)
    );
    assert_eq!(
        joined(R::Sos, T::Exhausted, CheckInKind::NeedHelp),
        (R::Sos, T::Exhausted)
    );
    assert_eq!(
        joined(R::Separated, T::Everyone, CheckInKind::NeedHelp),
        (R::Separated, T::Everyone)
    );
    assert_eq!(
        joined(R::NeedHelp, T::OnDuty, CheckInKind::Ok),
        (R::NeedHelp, T::OnDuty)
    );
    assert!(R::MissedCheckIn.answered_by_ok());
    for reason in [R::NeedHelp, R::Separated, R::Sos, R::Overdue] {
        assert!(!reason.answered_by_ok(), "{reason}");
    }
}

#[test]
fn an_alert_climbs_and_an_owned_one_reminds_then_goes_back_on_duty() {
    let open = AlertWatch {
        status: AlertStatus::Open,
        tier: AlertTier::OnDuty,
        owner_reminded: false,
        answered_late: false,
    };
    assert_eq!(open.step(), Some(AlertStep::Climb(AlertTier::Everyone)));
    let owned = AlertWatch {
        status: AlertStatus::Acknowledged,
        ..open
    };
    assert_eq!(owned.step(), Some(AlertStep::RemindOwner));
    let reminded = AlertWatch {
        owner_reminded: true,
        ..owned
    };
    assert_eq!(reminded.step(), Some(AlertStep::BackToOnDuty));
    let answered = AlertWatch {
        answered_late: true,
        ..open
    };
    assert_eq!(answered.step(), None);
    let resolved = AlertWatch {
        status: AlertStatus::Resolved,
        ..open
    };
    assert_eq!(resolved.step(), None);
    let (grace, reminder) = (Duration::minutes(10), Duration::minutes(15));
    assert_eq!(
        AlertWatch::next_look_after(AlertStep::RemindOwner, grace, reminder),
        reminder
    );
    assert_eq!(
        AlertWatch::next_look_after(AlertStep::BackToOnDuty, grace, reminder),
        grace
    );
}

#[test]
fn only_an_open_sos_sends_people_to_the_emergency_numbers() {
    assert!(advise_emergency_numbers(
        AlertReason::Sos,
        AlertStatus::Open
    ));
    assert!(!advise_emergency_numbers(
        AlertReason::Sos,
        AlertStatus::Acknowledged
    ));
    assert!(!advise_emergency_numbers(
        AlertReason::Sos,
        AlertStatus::Resolved
    ));
    assert!(!advise_emergency_numbers(
        AlertReason::NeedHelp,
        AlertStatus::Open
    ));
    assert!(
        EMERGENCY_NUMBERS
            .iter()
            .any(|(number, ..)| *number == "119")
    );
    assert!(
        EMERGENCY_NUMBERS
            .iter()
            .any(|(number, ..)| *number == "110")
    );
}

#[test]
fn an_outing_is_escalated_exactly_while_an_alert_pages() {
    use OutingStatus as S;
    assert_eq!(status_with_alerts(S::InProgress, true), S::Escalated);
    assert_eq!(status_with_alerts(S::Escalated, false), S::InProgress);
    assert_eq!(status_with_alerts(S::Escalated, true), S::Escalated);
    assert_eq!(status_with_alerts(S::Completed, true), S::Completed);
    assert_eq!(status_with_alerts(S::Planned, true), S::Planned);
}

#[test]
fn a_resolved_alert_rearms_the_ladder_from_the_resolution() {
    let (_, after_alert) = watch().actions(at(40));
    assert_eq!(after_alert.done, Some(WatchStep::Alerted));
    let rearmed = after_alert.rearmed(at(55), Duration::minutes(30));
    assert_eq!(rearmed.check_in_due_at, at(85));
    assert_eq!(rearmed.done, None);
    assert_eq!(rearmed.next_look(), Some(at(85)));
}

#[test]
fn stored_names_round_trip() {
    for purpose in Purpose::ALL {
        assert_eq!(Purpose::parse(purpose.as_str()), Ok(*purpose));
    }
    for status in OutingStatus::ALL {
        assert_eq!(OutingStatus::parse(status.as_str()), Ok(*status));
    }
    assert!(Resolution::EmergencyServicesCalled.was_real_incident());
    assert!(!Resolution::FalseAlarm.was_real_incident());
}

#[test]
fn a_plan_starts_now_or_later_and_lasts_at_most_twelve_hours() {
    let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let ok = |start: i64, end: i64| {
        check_planned_times(
            now + Duration::minutes(start),
            now + Duration::minutes(end),
            now,
        )
    };
    assert_eq!(ok(0, 60), Ok(()));
    assert_eq!(ok(-5, 60), Ok(()), "a few minutes' slack");
    assert_eq!(ok(-6, 60).unwrap_err().field, "plannedStart");
    assert_eq!(ok(60, 60).unwrap_err().field, "plannedEnd");
    assert_eq!(ok(0, 12 * 60), Ok(()));
    assert_eq!(ok(0, 12 * 60 + 1).unwrap_err().field, "plannedEnd");
    assert_eq!(check_coordinates(None, None), Ok(()));
    assert_eq!(check_coordinates(Some(34.67), Some(135.5)), Ok(()));
    assert_eq!(
        check_coordinates(Some(91.0), Some(0.0)).unwrap_err().field,
        "latitude"
    );
    assert_eq!(
        check_coordinates(Some(f64::NAN), Some(0.0))
            .unwrap_err()
            .field,
        "latitude"
    );
    assert_eq!(
        check_coordinates(Some(1.0), None).unwrap_err().field,
        "longitude"
    );
}

mod plan_properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any pair of instants chrono can hold is answered, never a panic, and what is
        /// accepted is a real plan: ends after it starts, at most 12 hours, not in the past.
        #[test]
        fn any_times_are_answered_and_what_passes_is_a_plan(
            start in i64::MIN / 2..i64::MAX / 2,
            end in i64::MIN / 2..i64::MAX / 2,
        ) {
            let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z").unwrap().with_timezone(&Utc);
            let at = |micros: i64| DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MAX_UTC);
            let (start, end) = (at(start), at(end));
            if check_planned_times(start, end, now).is_ok() {
                prop_assert!(end > start);
                prop_assert!(end - start <= Duration::hours(bounds::PLANNED_HOURS_MAX));
                prop_assert!(start >= now - Duration::minutes(PLANNED_START_SLACK_MINUTES));
            }
        }

        /// A plan setting passes exactly when it lies in its bounds, and passes unchanged.
        #[test]
        fn a_setting_passes_exactly_inside_its_bounds(value in any::<i32>()) {
            let range = bounds::CHECK_IN_INTERVAL_MINUTES;
            match check_in_bounds(value, range.clone(), "checkInIntervalMinutes") {
                Ok(kept) => prop_assert!(range.contains(&value) && kept == value),
                Err(refusal) => {
                    prop_assert!(!range.contains(&value));
                    prop_assert_eq!(refusal.field, "checkInIntervalMinutes");
                }
            }
        }
    }
}
