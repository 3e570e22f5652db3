//! `upload_image` in a browser: a `FormData` body (the browser writes the multipart form),
//! POSTed with `fetch` in CORS mode, aborted after the timeout.

use std::sync::Arc;
use std::time::Duration;

use chatio_core::{Error, Operation};
use chatio_transport::Endpoint;
use chatio_transport::token::TokenProvider;
use chatio_transport::web::time::sleep;
use chatio_wire::agent::UploadImage;
use futures::future::{Either, select};
use url::Url;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Blob, BlobPropertyBag, FormData, Headers, RequestInit, RequestMode, Response};

use crate::upload::{ImageFile, UploadedImage, answer, bytes_and_token};

/// How long an upload may take before it is aborted.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What `upload_image` needs besides the token: the action's URL.
#[derive(Clone)]
pub(crate) struct Images {
    url: Url,
    tokens: Arc<dyn TokenProvider>,
}

impl std::fmt::Debug for Images {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Images").field("url", &self.url.as_str()).finish_non_exhaustive()
    }
}

/// A browser failure as the core's transport error of an upload (the detail as its source).
fn failed(context: &str, e: &JsValue) -> Error {
    let why = e.as_string().or_else(|| js_sys::JSON::stringify(e).ok().map(String::from)).unwrap_or_default();
    chatio_transport::Error::Http { context: context.to_owned(), source: Box::new(std::io::Error::other(why)) }
        .into_core(Operation::Upload)
}

impl Images {
    pub(crate) fn new(server: &Url, tokens: Arc<dyn TokenProvider>) -> Result<Self, Error> {
        let url = chatio_transport::ws::web_api_url_at(server, Endpoint::new("agent/v0.5", None), "upload_image")
            .map_err(|e| e.into_core(Operation::Upload))?;
        Ok(Self { url, tokens })
    }

    /// Uploads with the session's token (or the provider's, before the first login).
    pub(crate) async fn upload(
        &self,
        session_token: Option<chatio_transport::token::Credentials>,
        image: &ImageFile,
    ) -> Result<UploadedImage, Error> {
        let (bytes, credentials) = bytes_and_token(image, session_token, &*self.tokens).await?;
        let window = web_sys::window().ok_or_else(|| failed("no `window`: not a browser page", &JsValue::UNDEFINED))?;
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_ref()));
        let bag = BlobPropertyBag::new();
        bag.set_type(&image.guessed_type());
        let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &bag).map_err(|e| failed("the image", &e))?;
        let form = FormData::new().map_err(|e| failed("the form", &e))?;
        form.append_with_blob_and_filename(UploadImage::FIELD_IMAGE, &blob, image.name())
            .map_err(|e| failed("the form", &e))?;
        let headers = Headers::new().map_err(|e| failed("the headers", &e))?;
        headers
            .set("Authorization", &format!("Bearer {}", credentials.access_token()))
            .map_err(|e| failed("the headers", &e))?;
        let abort = AbortController::new().map_err(|e| failed("AbortController", &e))?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_mode(RequestMode::Cors);
        init.set_headers(&headers);
        init.set_body(&form);
        init.set_signal(Some(&abort.signal()));
        let run = async {
            let resp = JsFuture::from(window.fetch_with_str_and_init(self.url.as_str(), &init))
                .await
                .map_err(|e| failed("the upload request failed (network error, refused or blocked by CORS)", &e))?;
            let resp: Response = resp.dyn_into().map_err(|v| failed("fetch gave no Response", &v))?;
            let text = resp.text().map_err(|e| failed("reading the answer", &e))?;
            let text = JsFuture::from(text).await.map_err(|e| failed("reading the answer", &e))?;
            Ok::<_, Error>((resp.status(), text.as_string().unwrap_or_default()))
        };
        futures::pin_mut!(run);
        let (status, body) = match select(run, sleep(TIMEOUT)).await {
            Either::Left((r, _)) => r?,
            Either::Right(_) => {
                abort.abort();
                return Err(chatio_transport::Error::Timeout(TIMEOUT).into_core(Operation::Upload));
            }
        };
        answer(status, body.as_bytes())
    }
}
