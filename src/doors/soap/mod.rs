//! The SOAP door, `POST /api/soap/` with the WSDL at `GET /api/soap/?wsdl` (SPEC §3.3). SOAP 1.1 and 1.2
//! share the path; the envelope's namespace picks the version and the body's element the operation
//! (`SOAPAction` is not consulted). Errors are SOAP faults: 1.1 always HTTP 500; 1.2 400 for Sender
//! faults and 500 for Receiver faults.

pub(crate) mod envelope;
mod namespaces;
mod render;
pub mod wsdl;
mod xml_value;

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::domain::Call;
use crate::domain::operation::Operation;
use crate::doors::AppState;
use crate::doors::wire::{client_of, frame, log_name, read_body, request_id};
use crate::telemetry::Outcome;
use envelope::{SoapVersion, version_of_content_type};

pub use envelope::TNS;

pub fn routes(cfg: &mut web::ServiceConfig) {
    for path in ["/api/soap/", "/api/soap"] {
        cfg.route(path, web::post().to(handle)).route(path, web::get().to(wsdl::serve));
    }
}

async fn handle(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let run = async |outcome: &mut Outcome| {
        let mut version = version_of_content_type(content_type);
        let mut operation = String::new();
        let result = async {
            let body = read_body(&req, payload, state.settings.body_limit).await?;
            let request = envelope::parse(&body, version).map_err(|(v, e)| {
                version = v;
                e
            })?;
            version = request.version;
            operation.clone_from(&request.operation);
            // The class is implied by the operation; unknown operations fail as unknown chat methods.
            let class = Operation::by_method(&request.operation).map_or("chat", Operation::class);
            outcome.class = Some(Cow::Borrowed(class));
            outcome.method = log_name(Some(&request.operation), Operation::method);
            let call = Call {
                login: request.login,
                secret: request.secret,
                decoded: None,
                client: client_of(&req, &state.settings),
                class: Some(class.to_string()),
                method: Some(request.operation),
                params: request.params,
            };
            state.gateway.call(call).await
        }
        .await;
        ((version, operation), result)
    };
    frame("soap", run, |(version, operation), result| {
        let (status, body) = match result {
            Ok(reply) => (StatusCode::OK, render::success(version, &operation, reply)),
            Err(e) => {
                let status = match (version, e.code.is_caller_error()) {
                    (SoapVersion::V12, true) => StatusCode::BAD_REQUEST,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                (status, render::fault(version, e, || request_id(&req)))
            }
        };
        HttpResponse::build(status).content_type(render::content_type(version)).body(body)
    })
    .await
}
