//! [`AgentSdk::init`] on the native platform (async-std, smol, tokio or the caller's runtime;
//! rustls for TLS), and the image upload.

use chatio_core::agent::AgentSession;
use chatio_core::{Error, Operation};
use chatio_transport::runtime::default_runtime;
use chatio_wire::{ChatId, EventKind, Image, NewEvent, RichElement, RichMessage};

use super::AgentSdk;
use crate::config::Config;
use crate::upload::{ImageFile, Images, UploadedImage};
use chatio_core::model::Event;

impl AgentSdk {
    /// Starts a session: logs in with the token and keeps the connection in the background.
    /// Subscribe with [`events`](Self::events) right away to see `Connected`.
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable URL or when no async runtime is available (enable a
    /// runtime feature, or call from inside a tokio runtime with the `tokio` feature).
    pub fn init(config: Config) -> Result<Self, Error> {
        let server = config.url()?;
        let rt = match config.runtime.clone() {
            Some(rt) => rt,
            None => default_runtime().map_err(|e| chatio_transport::Error::from(e).into_core(Operation::Connect))?,
        };
        let provider = config.token.provider();
        let images = Images::new(rt.clone(), config.tls.clone(), &server, provider.clone())?;
        let seed = config.seed.unwrap_or_else(|| fastrand::u64(..));
        let session = AgentSession::new(config.session_config(seed), rt.now());
        let platform = chatio_transport::Native::new(rt).with_tls(config.tls.clone());
        let driver = chatio_transport::spawn_on(platform, session, config.driver_config(server), provider)
            .map_err(|e| e.into_core(Operation::Connect))?;
        Ok(Self { driver, images })
    }

    /// Uploads an image (`upload_image`, PNG, GIF or JPEG up to 10 MiB): its URL, to send in
    /// a rich message (see [`send_image`](Self::send_image)). Creates no event.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for a file over 10 MiB (nothing is sent), [`Error::Server`]
    /// (`validation` for bytes that are no image), [`Error::Transport`] with
    /// [`Operation::Upload`] or [`Operation::ReadFile`].
    pub async fn upload_image(&self, image: &ImageFile) -> Result<UploadedImage, Error> {
        let token = self.driver.credentials().await;
        self.images.upload(token, image).await
    }

    /// Uploads an image and posts it to a chat: a rich message (`template_id` `cards`) with
    /// one element titled with the file name and holding the image.
    ///
    /// # Errors
    /// As [`upload_image`](Self::upload_image), then as [`send_event`](Self::send_event).
    pub async fn send_image(&self, chat: &ChatId, image: &ImageFile) -> Result<Event, Error> {
        let uploaded = self.upload_image(image).await?;
        self.send_event(chat, image_message(image, uploaded)).await
    }
}

/// The rich message that shows an uploaded image.
fn image_message(file: &ImageFile, uploaded: UploadedImage) -> NewEvent {
    let mut image = Image::new(uploaded.url);
    image.name = Some(file.name().to_owned());
    let mut element = RichElement::new(file.name(), Vec::new());
    element.image = Some(image);
    NewEvent::new(EventKind::RichMessage(RichMessage::new("cards", vec![element])))
}
