//! The wallet as a state machine, checked against a model: random sequences of
//! blocks, releases and consumptions (with amounts near the cover's edge) go
//! to a real registry, and after every step the wallet equals the model —
//! never negative, never over its cover, each refusal where the model refuses.

use std::collections::BTreeMap;

use ayushman_platform::testing;
use ayushman_proto::beneficiary::v1 as b;
use mesh_tests::{
    beneficiary::{self, BeneficiaryRegistry},
    preauth::today,
};
use proptest::prelude::*;
use tonic::Code;

const COVER: i64 = 5_00_000_00;

#[derive(Debug, Clone)]
enum Op {
    Block {
        preauth: u8,
        amount: i64,
    },
    Release {
        preauth: u8,
        amount: Option<i64>,
    },
    Consume {
        preauth: u8,
        amount: i64,
        release_rest: bool,
    },
}

fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(50_000_00_i64),
        Just(1_00_000_00),
        Just(2_00_000_00),
        Just(2_50_000_00),
        1_i64..3_00_000_00,
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0_u8..4, amount()).prop_map(|(preauth, amount)| Op::Block { preauth, amount }),
        1 => (0_u8..4, proptest::option::of(amount()))
            .prop_map(|(preauth, amount)| Op::Release { preauth, amount }),
        2 => (0_u8..4, amount(), any::<bool>())
            .prop_map(|(preauth, amount, release_rest)| Op::Consume { preauth, amount, release_rest }),
    ]
}

/// What the wallet should hold: per preauth, and consumed.
#[derive(Default)]
struct Model {
    held: BTreeMap<u8, i64>,
    consumed: i64,
}

impl Model {
    fn blocked(&self) -> i64 {
        self.held.values().sum()
    }

    /// Applies `op`; `Err` with the code the registry must answer.
    fn apply(&mut self, op: &Op) -> Result<(), Code> {
        match *op {
            Op::Block { preauth, amount } => {
                if amount > COVER - self.blocked() - self.consumed {
                    return Err(Code::FailedPrecondition);
                }
                *self.held.entry(preauth).or_default() += amount;
            }
            Op::Release { preauth, amount } => {
                let held = self.held.get_mut(&preauth).ok_or(Code::NotFound)?;
                let amount = amount.unwrap_or(*held);
                if amount > *held {
                    return Err(Code::FailedPrecondition);
                }
                *held -= amount;
            }
            Op::Consume {
                preauth,
                amount,
                release_rest,
            } => {
                let held = self.held.get_mut(&preauth).ok_or(Code::NotFound)?;
                if amount > *held {
                    return Err(Code::FailedPrecondition);
                }
                *held -= amount;
                self.consumed += amount;
                if release_rest {
                    *held = 0;
                }
            }
        }
        Ok(())
    }
}

async fn apply(
    registry: &mut BeneficiaryRegistry,
    person: &str,
    step: usize,
    op: &Op,
) -> Result<(), Code> {
    let preauth_id = |p: u8| format!("PA-MODEL-{p}");
    let key = format!("model-{step}");
    let answer = match op {
        Op::Block { preauth, amount } => registry
            .client
            .block_amount(b::BlockAmountRequest {
                scheme_codes: Vec::new(),
                idempotency_key: key,
                beneficiary_id: person.into(),
                scheme_code: "PMJAY".into(),
                preauth_id: preauth_id(*preauth),
                amount_paise: *amount,
                treatment_date: Some(today()),
                reason: "model".into(),
                actor: None,
            })
            .await
            .map(drop),
        Op::Release { preauth, amount } => registry
            .client
            .release_amount(b::ReleaseAmountRequest {
                idempotency_key: key,
                preauth_id: preauth_id(*preauth),
                amount_paise: amount.unwrap_or(0),
                reason: "model".into(),
                ..Default::default()
            })
            .await
            .map(drop),
        Op::Consume {
            preauth,
            amount,
            release_rest,
        } => registry
            .client
            .consume_amount(b::ConsumeAmountRequest {
                idempotency_key: key,
                preauth_id: preauth_id(*preauth),
                claim_id: format!("CL-MODEL-{step}"),
                amount_paise: *amount,
                release_remainder: *release_rest,
                reason: "model".into(),
                actor: None,
            })
            .await
            .map(drop),
    };
    answer.map_err(|status| status.code())
}

async fn run(ops: Vec<Op>) {
    let database = testing::sqlite();
    let mut registry = beneficiary::spawn(&database).await;
    let person = registry
        .carded_person("RC-MODEL", "Model Person", 7)
        .await
        .beneficiary_id;
    let mut model = Model::default();
    for (step, op) in ops.iter().enumerate() {
        let expected = model.apply(op);
        let answered = apply(&mut registry, &person, step, op).await;
        assert_eq!(answered, expected, "step {step}: {op:?}");
        let wallet = registry.pmjay_wallet("RC-MODEL").await;
        assert_eq!(
            (wallet.blocked_paise, wallet.consumed_paise),
            (model.blocked(), model.consumed),
            "step {step}: {op:?}"
        );
        assert!(wallet.available_paise >= 0 && wallet.blocked_paise >= 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_wallet_follows_its_model_through_any_sequence(ops in proptest::collection::vec(op(), 1..24)) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(run(ops));
    }
}
