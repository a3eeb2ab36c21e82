//! `AWS::Account::Info`: one item per account the run can access, `{Id, Name}`, no AWS
//! call and no `__ExtraContext` (as aws-v3).

use futures::future::BoxFuture;
use serde_json::json;

use super::{AwsError, Emit, Kind, ListCtx, Scope, item};

pub const KIND: Kind = Kind {
    name: "AWS::Account::Info",
    scope: Scope::Account,
    list: start,
};

fn start(ctx: ListCtx, emit: Emit) -> BoxFuture<'static, Result<(), AwsError>> {
    Box::pin(list(ctx, emit))
}

async fn list(ctx: ListCtx, emit: Emit) -> Result<(), AwsError> {
    let mut props = serde_json::Map::new();
    props.insert("Id".into(), json!(ctx.account.id));
    props.insert("Name".into(), json!(ctx.account.name));
    emit.send(vec![item(KIND.name, props, None)]).await
}
