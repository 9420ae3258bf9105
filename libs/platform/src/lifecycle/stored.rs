//! A contract enum as a database column, kept by its value name
//! (`CLAIM_STATUS_APPROVED`), so rows read the same in psql as in grpcurl and
//! code compares enums the compiler checks.

use std::ops::Deref;

use ayushman_proto::ProtoEnum;
use sea_orm::{
    ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value,
    sea_query::{ArrayType, ColumnType, Nullable, StringLen, ValueType, ValueTypeErr},
};

/// `E` stored as its value name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stored<E>(pub E);

impl<E> Deref for Stored<E> {
    type Target = E;

    fn deref(&self) -> &E {
        &self.0
    }
}

impl<E: ProtoEnum> From<E> for Stored<E> {
    fn from(value: E) -> Self {
        Self(value)
    }
}

impl<E: ProtoEnum> PartialEq<E> for Stored<E> {
    fn eq(&self, other: &E) -> bool {
        self.0 == *other
    }
}

impl<E: ProtoEnum> From<Stored<E>> for Value {
    fn from(value: Stored<E>) -> Self {
        Value::String(Some(value.0.as_str_name().to_owned()))
    }
}

/// Why a stored name is not a value of the enum.
#[derive(Debug, thiserror::Error)]
#[error("{name:?} is not a value of the contract enum")]
struct UnknownName {
    name: String,
}

impl<E: ProtoEnum> TryGetable for Stored<E> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let name = String::try_get_by(res, index)?;
        E::from_str_name(&name).map(Self).ok_or_else(|| {
            TryGetError::DbErr(DbErr::TryIntoErr {
                from: "String",
                into: std::any::type_name::<E>(),
                source: std::sync::Arc::new(UnknownName { name }),
            })
        })
    }
}

impl<E: ProtoEnum> ValueType for Stored<E> {
    fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
        let name = <String as ValueType>::try_from(value)?;
        E::from_str_name(&name).map(Self).ok_or(ValueTypeErr)
    }

    fn type_name() -> String {
        std::any::type_name::<E>().to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::String(StringLen::None)
    }
}

impl<E: ProtoEnum> Nullable for Stored<E> {
    fn null() -> Value {
        Value::String(None)
    }
}

impl<E: ProtoEnum> sea_orm::IntoActiveValue<Stored<E>> for Stored<E> {
    fn into_active_value(self) -> sea_orm::ActiveValue<Stored<E>> {
        sea_orm::ActiveValue::Set(self)
    }
}

#[cfg(test)]
mod tests {
    use ayushman_proto::claims::v1::ClaimStatus;

    use super::*;

    #[test]
    fn a_status_is_stored_by_its_value_name_and_read_back() {
        let value = Value::from(Stored(ClaimStatus::Approved));
        assert_eq!(
            value,
            Value::String(Some("CLAIM_STATUS_APPROVED".to_owned()))
        );
        assert_eq!(
            <Stored<ClaimStatus> as ValueType>::try_from(value).ok(),
            Some(Stored(ClaimStatus::Approved))
        );
        assert!(<Stored<ClaimStatus> as ValueType>::try_from(Value::from("APPROVED")).is_err());
    }
}
