//! Endpoints that cannot be reached or do not speak the protocol.

use std::time::Duration;

use axum::Router;
use axum::routing::post;
use keyless_api_types::Cloud;
use keyless_api_types::settings::{AwsOidc, AzureOidc, GcpOidc};
use keyless_exchange::{Endpoint, Endpoints, ExchangeError, Exchanger, Timeouts};

use crate::support::{Issuer, assert_hides, closed_port, exchanger};

fn aws() -> AwsOidc {
    AwsOidc {
        role_arn: "arn:aws:iam::123456789012:role/deploy".into(),
        session_name: String::new(),
        duration: None,
        policy_arns: None,
    }
}

fn azure() -> AzureOidc {
    AzureOidc {
        client_id: "client".into(),
        tenant_id: "tenant".into(),
        subscription_id: "subscription".into(),
    }
}

fn gcp() -> GcpOidc {
    GcpOidc {
        project_id: "123".into(),
        workload_pool_id: "pool".into(),
        provider_id: "provider".into(),
        service_account: "sa@p.iam.gserviceaccount.com".into(),
        ..GcpOidc::default()
    }
}

#[tokio::test]
async fn a_closed_port_is_unreachable_and_names_the_endpoint_and_its_setting() {
    let issuer = Issuer::start().await;
    let token = issuer.token();
    let closed = closed_port().await;
    let exchanger = exchanger(&closed);
    let errors = [
        (
            Endpoint::AwsSts,
            Cloud::Aws,
            exchanger.aws(&aws(), "session", &token).await,
        ),
        (
            Endpoint::AzureToken,
            Cloud::Azure,
            exchanger.azure(&azure(), &token).await,
        ),
        (
            Endpoint::GcpSts,
            Cloud::Gcp,
            exchanger.gcp(&gcp(), &token).await,
        ),
    ];
    for (expected, cloud, result) in errors {
        let err = result.expect_err("closed port");
        let ExchangeError::Unreachable {
            endpoint,
            url,
            reason,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(*endpoint, expected);
        assert_eq!(err.cloud(), Some(cloud));
        assert!(url.starts_with(&closed), "{url}");
        assert!(reason.starts_with("could not connect"), "{reason}");
        let text = err.to_string();
        assert!(
            text.contains(&expected.to_string()) && text.contains(&closed),
            "{text}"
        );
        assert!(
            err.explain().contains(expected.env_var()),
            "{}",
            err.explain()
        );
        assert_hides(&format!("{text} {err:?} {}", err.explain()), &[&token]);
    }
}

#[tokio::test]
async fn an_endpoint_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let endpoints = Endpoints {
        aws_sts: url.clone(),
        ..Endpoints::default()
    };
    let timeouts = Timeouts {
        connect: Duration::from_secs(1),
        total: Duration::from_millis(300),
    };
    let exchanger = Exchanger::with_timeouts(endpoints, timeouts).expect("client");
    let err = exchanger
        .aws(&aws(), "session", "a.b.c")
        .await
        .expect_err("silent");
    hold.abort();
    let ExchangeError::Unreachable { reason, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(reason.contains("timed out"), "{reason}");
}

#[tokio::test]
async fn a_server_that_is_not_the_cloud_is_a_bad_response_without_echoing_the_body() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let page = "<html>captive portal secret-looking-body</html>";
    let router = Router::new().fallback(post(move || async move { page }));
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let exchanger = exchanger(&url);
    let errors = [
        exchanger.aws(&aws(), "session", "a.b.c").await,
        exchanger.azure(&azure(), "a.b.c").await,
        exchanger.gcp(&gcp(), "a.b.c").await,
    ];
    server.abort();
    for result in errors {
        let err = result.expect_err("not the cloud");
        assert!(
            matches!(err, ExchangeError::BadResponse { status: 200, .. }),
            "{err:?}"
        );
        assert_hides(&format!("{err} {err:?}"), &["secret-looking-body"]);
        assert!(err.explain().contains("does not speak"));
    }
}
