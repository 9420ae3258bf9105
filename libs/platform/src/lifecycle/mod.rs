//! One kit for everything in the mesh that has a status (DESIGN §4: every
//! decision traceable): preauths, claims, payment batches, empanelments and
//! portability agreements.
//!
//! - A [`Lifecycle`] names its statuses (a contract enum) and the moves between
//!   them; [`Lifecycle::transition`] refuses a move not in the table with
//!   FAILED_PRECONDITION naming the current status.
//! - The status column is a [`Stored`] enum, so code compares and sets
//!   statuses the compiler knows, never strings.
//! - [`save`] writes a record with its new status as one compare-and-set
//!   statement (`UPDATE … SET status = $to … WHERE id = $id AND status = $from`):
//!   of two concurrent decisions exactly one wins, on PostgreSQL as on SQLite;
//!   the other gets ABORTED naming the status the winner left. [`guard`] is
//!   the same statement for a write committed with others ([`crate::db::Guarded`]).
//! - Every change appends a row to the record's [`history`] table, written and
//!   read by one [`HistoryTable`], shown as one `StatusChange`.

pub mod history;
mod stored;

use ayushman_proto::{
    ProtoEnum,
    common::v1::{Actor as ProtoActor, ActorKind},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryTrait, sea_query::UpdateStatement,
};

pub use history::{HistoryRow, HistoryTable};
pub use stored::Stored;

use crate::{ApiError, MeshService};

/// Who causes a change: kept in histories and ledgers with the trace of the
/// request that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// A login, an HPR id, a partner id or a service name.
    pub id: String,
    /// What kind of actor it is.
    pub kind: ActorKind,
    /// The W3C trace id of the request; empty outside a trace.
    pub trace_id: String,
}

impl Actor {
    /// A service acting on its own (saga steps, deemed approval, compensation).
    pub fn system(service: MeshService) -> Self {
        Self {
            id: service.name().to_owned(),
            kind: ActorKind::System,
            trace_id: crate::telemetry::current_trace_id().unwrap_or_default(),
        }
    }

    /// Who made a request: for a partner's call, the user the gateway
    /// authenticated (or the partner itself when the call names no user),
    /// whatever the body says; for a call from inside the mesh, the actor the
    /// body names.
    pub fn of(caller: &crate::Caller, hint: Option<&ProtoActor>) -> Self {
        use ayushman_proto::common::v1::Role;
        let trace_id = crate::telemetry::current_trace_id().unwrap_or_default();
        match caller {
            crate::Caller::Mesh => Self::named(hint),
            crate::Caller::Partner(partner) => match &partner.user {
                Some(user) => Self {
                    id: user.user_id.clone(),
                    kind: if user
                        .roles
                        .iter()
                        .any(|r| matches!(r, Role::Pmam | Role::Medco))
                    {
                        ActorKind::Hospital
                    } else if user
                        .roles
                        .iter()
                        .any(|r| matches!(r, Role::Operator | Role::DistrictCoordinator))
                    {
                        ActorKind::Operator
                    } else {
                        ActorKind::Reviewer
                    },
                    trace_id,
                },
                None => Self {
                    id: partner.partner_id.clone(),
                    kind: ActorKind::Partner,
                    trace_id,
                },
            },
        }
    }

    /// The actor a request names, with the current trace; `unknown` when it names none.
    pub fn named(actor: Option<&ProtoActor>) -> Self {
        let trace_id = crate::telemetry::current_trace_id().unwrap_or_default();
        match actor {
            Some(a) if !a.actor_id.trim().is_empty() => Self {
                id: a.actor_id.trim().to_owned(),
                kind: a.kind(),
                trace_id,
            },
            _ => Self {
                id: "unknown".into(),
                kind: ActorKind::Unspecified,
                trace_id,
            },
        }
    }

    /// As the contracts show it.
    pub fn to_proto(&self) -> ProtoActor {
        ProtoActor {
            actor_id: self.id.clone(),
            kind: self.kind as i32,
            display_name: String::new(),
        }
    }
}

/// The statuses of one kind of record and the moves allowed between them.
pub trait Lifecycle: 'static {
    /// The contract's status enum.
    type Status: ProtoEnum;
    /// What the record is called in messages: `preauth`, `claim`.
    const NOUN: &'static str;
    /// Every allowed move, `(from, to)`.
    const MOVES: &'static [(Self::Status, Self::Status)];

    /// The move from `from` to `to` of record `id`, if the table allows it;
    /// otherwise FAILED_PRECONDITION naming the current status and the
    /// statuses it could have moved from.
    fn transition(
        id: &str,
        from: Self::Status,
        to: Self::Status,
    ) -> Result<Transition<Self>, ApiError> {
        if Self::MOVES.contains(&(from, to)) {
            return Ok(Transition { from, to });
        }
        let sources: Vec<&str> = Self::MOVES
            .iter()
            .filter(|(_, target)| *target == to)
            .map(|(source, _)| source.label())
            .collect();
        let only = if sources.is_empty() {
            String::new()
        } else {
            format!(" (only from {})", sources.join(" or "))
        };
        Err(ApiError::FailedPrecondition(format!(
            "{} {id} is {}; it cannot become {}{only}",
            Self::NOUN,
            from.label(),
            to.label(),
        )))
    }

    /// A change of the record that keeps its status (an enhancement, a
    /// compensation finished): still guarded, so it fails if the status moved.
    fn unchanged(status: Self::Status) -> Transition<Self> {
        Transition {
            from: status,
            to: status,
        }
    }
}

/// A move the table allows: made only by [`Lifecycle::transition`] or
/// [`Lifecycle::unchanged`], taken by [`save`].
pub struct Transition<L: Lifecycle + ?Sized> {
    from: L::Status,
    to: L::Status,
}

impl<L: Lifecycle> Clone for Transition<L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L: Lifecycle> Copy for Transition<L> {}

impl<L: Lifecycle> std::fmt::Debug for Transition<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} -> {:?}", self.from, self.to)
    }
}

impl<L: Lifecycle> Transition<L> {
    /// The status moved from.
    pub fn from(&self) -> L::Status {
        self.from
    }

    /// The status moved to.
    pub fn to(&self) -> L::Status {
        self.to
    }

    /// Whether the status changes (history rows are written for changes).
    pub fn changes_status(&self) -> bool {
        self.from != self.to
    }
}

/// Writes `row` — the whole new state of one record — with status
/// `transition.to()`, provided the stored status is still `transition.from()`:
/// one `UPDATE … WHERE <key> AND status = $from`. When another request moved
/// the record first, nothing is written and the answer is ABORTED naming the
/// status that request left (read it again and decide anew).
pub async fn save<A, L>(
    db: &impl ConnectionTrait,
    mut row: A,
    status: <A::Entity as EntityTrait>::Column,
    transition: Transition<L>,
) -> Result<<A::Entity as EntityTrait>::Model, ApiError>
where
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    L: Lifecycle,
{
    row.set(status, Stored(transition.to).into());
    let key = row.get_primary_key_value();
    // Boxed: sea-orm's update of a wide row is a future of ~12 KiB, which
    // every caller up the chain would otherwise hold, and copy, inline.
    let saved = Box::pin(
        <A::Entity as EntityTrait>::update(row)
            .validate()?
            .filter(status.eq(Stored(transition.from)))
            .exec(db),
    )
    .await;
    match saved {
        Ok(model) => Ok(model),
        Err(DbErr::RecordNotUpdated) => Err(lost::<A::Entity, L>(db, status, key).await),
        Err(error) => Err(error.into()),
    }
}

/// The UPDATE that writes `changes` to the record `which` selects with
/// status `transition.to()`, provided the stored status is still
/// `transition.from()`: the guard of a [`crate::db::Guarded`] write, which
/// commits nothing when another request moved the record first.
pub fn guard<A, L>(
    mut changes: A,
    which: Condition,
    status: <A::Entity as EntityTrait>::Column,
    transition: Transition<L>,
) -> UpdateStatement
where
    A: ActiveModelTrait,
    L: Lifecycle,
{
    changes.set(status, Stored(transition.to).into());
    <A::Entity as EntityTrait>::update_many()
        .set(changes)
        .filter(which)
        .filter(status.eq(Stored(transition.from)))
        .into_query()
}

/// ABORTED for a record another request moved on, naming where it is now.
async fn lost<E, L>(
    db: &impl ConnectionTrait,
    status: E::Column,
    key: Option<sea_orm::sea_query::ValueTuple>,
) -> ApiError
where
    E: EntityTrait,
    L: Lifecycle,
{
    use sea_orm::{Iterable, ModelTrait, PrimaryKeyToColumn};
    let Some(key) = key else {
        return ApiError::internal(format!("a {} without a primary key", L::NOUN));
    };
    let id = key
        .clone()
        .into_iter()
        .map(|v| match v {
            sea_orm::Value::String(Some(s)) => s,
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join("/");
    let mut query = E::find();
    for (column, value) in E::PrimaryKey::iter().zip(key) {
        query = query.filter(column.into_column().eq(value));
    }
    match query.one(db).await {
        Ok(Some(current)) => {
            let now =
                <Stored<L::Status> as sea_orm::sea_query::ValueType>::try_from(current.get(status))
                    .map(|s| s.0.label())
                    .unwrap_or("changed");
            ApiError::Aborted(format!(
                "{} {id} changed while this request ran: it is now {now}; read it again",
                L::NOUN
            ))
        }
        Ok(None) => ApiError::NotFound(format!("no {} {id}", L::NOUN)),
        Err(error) => error.into(),
    }
}
