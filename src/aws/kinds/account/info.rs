//! `AWS::Account::Info`: one item per account the run can access, `{Id, Name}`, no AWS
//! call and no `__ExtraContext` (as aws-v3, which has no actions for it either).

use serde_json::json;

use crate::aws::AwsError;
use crate::aws::kinds::{Emit, Fixture, Kind, ListCtx, Scope, item};

pub const KIND: Kind = Kind {
    name: "AWS::Account::Info",
    scope: Scope::Account,
    list: lister!(list),
    default_actions: &[],
    optional_actions: &[],
    fixture: Fixture {
        example: "account-info",
        keys: &["Id", "Name"],
    },
};

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let mut props = serde_json::Map::new();
    props.insert("Id".into(), json!(ctx.account.id));
    props.insert("Name".into(), json!(ctx.account.name));
    emit.send(vec![item(KIND.name, props, None)]).await
}
