//! Check-in kinds and alerts: why an alert is raised, how it climbs its tiers until someone
//! acknowledges it, what an urgent check-in does to one already open, and when the emergency
//! numbers are shown.

use std::fmt;

use crate::domain::people::UnknownValue;
use chrono::Duration;

use super::lifecycle::OutingStatus;
use crate::domain::people::stored_names;

/// A check-in: how it is going.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckInKind {
    Ok,
    NeedHelp,
    /// The participant and the supporter have lost each other.
    Separated,
    Sos,
}

stored_names!(CheckInKind, "check-in kind", {
    Ok => "ok",
    NeedHelp => "need_help",
    Separated => "separated",
    Sos => "sos",
});

/// Why an alert was raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertReason {
    MissedCheckIn,
    NeedHelp,
    Separated,
    Sos,
    /// Still under way at the planned end plus the grace period.
    Overdue,
}

stored_names!(AlertReason, "alert reason", {
    MissedCheckIn => "missed_check_in",
    NeedHelp => "need_help",
    Separated => "separated",
    Sos => "sos",
    Overdue => "overdue",
});

impl AlertReason {
    /// How urgent the reason is: an alert joined by a more urgent check-in takes its reason.
    pub(super) fn urgency(self) -> u8 {
        match self {
            Self::MissedCheckIn | Self::Overdue => 0,
            Self::NeedHelp => 1,
            Self::Separated => 2,
            Self::Sos => 3,
        }
    }

    /// The more urgent of the two (the alert's own on a tie).
    pub fn most_urgent(self, other: Self) -> Self {
        if other.urgency() > self.urgency() {
            other
        } else {
            self
        }
    }

    /// A late "OK" from a member answers only a missed check-in: it says nothing about help asked
    /// for, a separation or an SOS, nor about an outing that overran its end.
    pub fn answered_by_ok(self) -> bool {
        self == Self::MissedCheckIn
    }
}

impl CheckInKind {
    /// The alert a check-in raises at once, if any, and the tier it starts at.
    pub fn raises(self) -> Option<(AlertReason, AlertTier)> {
        match self {
            Self::Ok => None,
            Self::NeedHelp => Some((AlertReason::NeedHelp, AlertTier::OnDuty)),
            Self::Separated => Some((AlertReason::Separated, AlertTier::OnDuty)),
            Self::Sos => Some((AlertReason::Sos, AlertTier::Everyone)),
        }
    }
}

/// Who an alert reaches: the coordinators on duty (everyone if nobody is), then every coordinator;
/// exhausted: every coordinator again each grace period until someone acknowledges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertTier {
    OnDuty,
    Everyone,
    Exhausted,
}

stored_names!(AlertTier, "alert tier", {
    OnDuty => "on_duty",
    Everyone => "everyone",
    Exhausted => "exhausted",
});

impl AlertTier {
    /// The tier after this one, once a grace period has passed without acknowledgement.
    pub fn next(self) -> Self {
        match self {
            Self::OnDuty => Self::Everyone,
            Self::Everyone | Self::Exhausted => Self::Exhausted,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Resolved,
}

stored_names!(AlertStatus, "alert status", {
    Open => "open",
    Acknowledged => "acknowledged",
    Resolved => "resolved",
});

impl AlertStatus {
    /// Not resolved: someone must still act on it.
    pub fn is_active(self) -> bool {
        self != Self::Resolved
    }
}

/// Repeat pushes of one alert to the people it already reached come at most this often (a
/// panicking thumb on SOS must not page everyone ten times); people it newly reaches are told at once.
pub const ALERT_REPEAT_PUSH_MINUTES: i64 = 1;

/// An acknowledged alert left unresolved this long reminds its owner, and after as long again goes
/// back to the coordinators on duty, by default (`safety.acknowledged_reminder_minutes`).
pub const DEFAULT_ACKNOWLEDGED_REMINDER_MINUTES: i64 = 15;

/// An SOS that no coordinator has acknowledged this long tells the people on the outing to call
/// the emergency numbers themselves, by default (`safety.sos_unanswered_minutes`): the app must
/// never leave them waiting.
pub const DEFAULT_SOS_UNANSWERED_MINUTES: i64 = 3;

/// Japan's emergency numbers, which the app shows when an SOS goes unanswered.
pub const EMERGENCY_NUMBERS: [(&str, &str, &str); 2] = [
    ("119", "救急・消防", "Ambulance and fire"),
    ("110", "警察", "Police"),
];

/// Whether the emergency numbers must be shown for an alert: an SOS (raised or joined) still
/// open — nobody acknowledged it — once its time has come.
pub fn advise_emergency_numbers(reason: AlertReason, status: AlertStatus) -> bool {
    reason == AlertReason::Sos && status == AlertStatus::Open
}

/// What the watchdog knows of an active alert whose `escalate_at` has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertWatch {
    pub status: AlertStatus,
    pub tier: AlertTier,
    /// Its owner was already reminded (acknowledged alerts only).
    pub owner_reminded: bool,
    /// A late "OK" answered it: it no longer pages anyone.
    pub answered_late: bool,
}

/// The alert's next step on the ladder, when its time has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertStep {
    /// Unacknowledged: up to the next tier (exhausted: every coordinator again).
    Climb(AlertTier),
    /// Acknowledged and unresolved for a period: its owner is reminded.
    RemindOwner,
    /// Still unresolved a period after the reminder: the owner may have lost contact, so it is
    /// open again at the coordinators on duty.
    BackToOnDuty,
}

impl AlertWatch {
    /// The step due now, if any (a resolved or answered alert has none).
    pub fn step(&self) -> Option<AlertStep> {
        if self.answered_late {
            return None;
        }
        match self.status {
            AlertStatus::Open => Some(AlertStep::Climb(self.tier.next())),
            AlertStatus::Acknowledged if self.owner_reminded => Some(AlertStep::BackToOnDuty),
            AlertStatus::Acknowledged => Some(AlertStep::RemindOwner),
            AlertStatus::Resolved => None,
        }
    }

    /// How long until the watchdog looks at the alert again after `step`.
    pub fn next_look_after(
        step: AlertStep,
        grace: Duration,
        acknowledged_reminder: Duration,
    ) -> Duration {
        match step {
            AlertStep::Climb(_) | AlertStep::BackToOnDuty => grace,
            AlertStep::RemindOwner => acknowledged_reminder,
        }
    }
}

/// An urgent check-in joining an active alert of its outing: the alert takes the more urgent
/// reason, and an SOS lifts it to at least its own tier (never lowers one that climbed higher).
pub fn joined(reason: AlertReason, tier: AlertTier, kind: CheckInKind) -> (AlertReason, AlertTier) {
    match kind.raises() {
        Some((raised, raised_tier)) => (reason.most_urgent(raised), tier.max(raised_tier)),
        None => (reason, tier),
    }
}

/// The outing's status once its alerts are settled: under way, it is escalated while any alert
/// still pages (active and not answered by a late "OK"), in progress otherwise.
pub fn status_with_alerts(status: OutingStatus, any_paging_alert: bool) -> OutingStatus {
    match status {
        OutingStatus::InProgress | OutingStatus::Escalated if any_paging_alert => {
            OutingStatus::Escalated
        }
        OutingStatus::InProgress | OutingStatus::Escalated => OutingStatus::InProgress,
        other => other,
    }
}

/// How an alert ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resolution {
    FalseAlarm,
    ReachedByPhone,
    MetInPerson,
    EmergencyServicesCalled,
    Other,
}

stored_names!(Resolution, "alert resolution", {
    FalseAlarm => "false_alarm",
    ReachedByPhone => "reached_by_phone",
    MetInPerson => "met_in_person",
    EmergencyServicesCalled => "emergency_services_called",
    Other => "other",
});

impl Resolution {
    /// A real incident: the supporters are flagged for a supervision follow-up.
    pub fn was_real_incident(self) -> bool {
        matches!(self, Self::EmergencyServicesCalled | Self::MetInPerson)
    }
}
