//! The text of the alert e-mail fallback: as lock-screen-safe as the push (`Message::SafetyAlert`),
//! because a mail preview is read on a lock screen or over a shoulder just the same. It names the
//! alert by its id only: never a person, place, purpose, note or crisis plan.

use uuid::Uuid;

use crate::domain::people::Locale;

/// A plain-text e-mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailText {
    pub subject: String,
    pub body: String,
}

/// The fallback e-mail for an alert nobody confirmed seeing, in the recipient's language.
pub fn alert_fallback(locale: Locale, alert_id: Uuid) -> EmailText {
    match locale {
        Locale::Ja => EmailText {
            subject: "Tomoni 安全アラート".to_owned(),
            body: format!(
                "対応が必要な外出があります。\r\n\
                 プッシュ通知が表示された確認が取れなかったため、メールでお知らせしています。\r\n\
                 Tomoni のアプリ（またはプレイグラウンド）を開いて確認してください。\r\n\
                 \r\n\
                 アラート ID: {alert_id}\r\n"
            ),
        },
        Locale::En => EmailText {
            subject: "Tomoni safety alert".to_owned(),
            body: format!(
                "An outing needs attention.\r\n\
                 We could not confirm that the push notification was shown, so we are telling you \
                 by e-mail.\r\n\
                 Open the Tomoni app (or the playground) to see it.\r\n\
                 \r\n\
                 Alert id: {alert_id}\r\n"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_generic_and_names_the_alert_by_id() {
        let id = Uuid::now_v7();
        let en = alert_fallback(Locale::En, id);
        assert_eq!(en.subject, "Tomoni safety alert");
        assert!(en.body.contains(&id.to_string()));
        assert!(en.body.contains("Open the Tomoni app"));
        let ja = alert_fallback(Locale::Ja, id);
        assert_eq!(ja.subject, "Tomoni 安全アラート");
        assert!(ja.body.contains(&id.to_string()));
        // Nothing of the outing can be in it: the function is given nothing but the id.
        assert_ne!(en.body, ja.body);
    }
}
