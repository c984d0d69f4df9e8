//! Relay cursor connections: checking `first`/`after`, and turning a store page into a connection.

use async_graphql::OutputType;
use async_graphql::connection::{Connection, Edge};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use crate::store::{Page, PageRequest};

pub const DEFAULT_PAGE_SIZE: i32 = 20;
pub const MAX_PAGE_SIZE: i32 = 100;

/// Checks the arguments. A `first` above the maximum is an error, never silently clamped.
pub fn page_request(first: Option<i32>, after: Option<&str>) -> ApiResult<PageRequest> {
    let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&first) {
        return Err(ApiError::bad_input(
            "first",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    let after = after.map(decode_cursor).transpose()?;
    Ok(PageRequest {
        after,
        first: u64::try_from(first).unwrap_or(1),
    })
}

/// Cursors are opaque to clients: the row's id, base64url-encoded.
pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> ApiResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::bad_input("after", "is not a cursor this API gave out"))
}

/// One page of rows already in memory, in the order given: the `first` after the row whose id
/// the cursor holds. A cursor of a row not in the list is BAD_USER_INPUT.
pub fn page_of<M: Clone>(
    rows: &[M],
    request: PageRequest,
    id_of: impl Fn(&M) -> Uuid,
) -> ApiResult<Page<M>> {
    let from = match request.after {
        None => 0,
        Some(after) => {
            rows.iter()
                .position(|row| id_of(row) == after)
                .ok_or_else(|| ApiError::bad_input("after", "is not a cursor of this list"))?
                + 1
        }
    };
    let first = usize::try_from(request.first).unwrap_or(usize::MAX);
    let rest = rows.get(from..).unwrap_or_default();
    Ok(Page {
        items: rest.iter().take(first).cloned().collect(),
        has_next_page: rest.len() > first,
    })
}

/// Builds the connection; `id_of` gives each row's id (its cursor) and `node` turns it into the
/// GraphQL object.
pub fn connection<M, N: OutputType>(
    request: PageRequest,
    page: Page<M>,
    id_of: impl Fn(&M) -> Uuid,
    node: impl Fn(M) -> ApiResult<N>,
) -> ApiResult<Connection<String, N>> {
    let mut connection = Connection::new(request.after.is_some(), page.has_next_page);
    for item in page.items {
        let cursor = encode_cursor(id_of(&item));
        connection.edges.push(Edge::new(cursor, node(item)?));
    }
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_is_bounded_and_defaulted() {
        assert_eq!(page_request(None, None).unwrap().first, 20);
        assert_eq!(page_request(Some(100), None).unwrap().first, 100);
        for bad in [0, -1, 101, i32::MAX] {
            assert!(matches!(
                page_request(Some(bad), None),
                Err(ApiError::BadUserInput { field: "first", .. })
            ));
        }
    }

    #[test]
    fn pages_in_memory_follow_their_cursors() {
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        let first = page_of(&ids, page_request(Some(2), None).unwrap(), |id| *id).unwrap();
        assert_eq!(first.items, ids[..2]);
        assert!(first.has_next_page);
        let cursor = encode_cursor(ids[1]);
        let second = page_of(&ids, page_request(Some(2), Some(&cursor)).unwrap(), |id| {
            *id
        })
        .unwrap();
        assert_eq!(second.items, ids[2..4]);
        let cursor = encode_cursor(ids[3]);
        let last = page_of(&ids, page_request(Some(2), Some(&cursor)).unwrap(), |id| {
            *id
        })
        .unwrap();
        assert_eq!(last.items, ids[4..]);
        assert!(!last.has_next_page);
        let stranger = encode_cursor(Uuid::now_v7());
        assert!(page_of(&ids, page_request(None, Some(&stranger)).unwrap(), |id| *id).is_err());
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::now_v7();
        let cursor = encode_cursor(id);
        assert_eq!(page_request(None, Some(&cursor)).unwrap().after, Some(id));
        for bad in ["", "not a cursor", "AAAA"] {
            assert!(matches!(
                page_request(None, Some(bad)),
                Err(ApiError::BadUserInput { field: "after", .. })
            ));
        }
    }
}
