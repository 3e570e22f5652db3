//! The console's colon commands and replies.

use chatio_agent_sdk::{AgentSdk, ChatId, Error, ErrorType, ImageFile, RoutingStatus};

use super::show::{chat_line, display_name, event_text};
use super::{HELP, Shared, lock};
use crate::errors::describe;
use crate::render::{Renderer, plural};

/// Most threads `:history` shows (the newest).
const HISTORY_THREADS: usize = 10;

fn current(console: &Shared) -> Result<(ChatId, usize), String> {
    let mut c = lock(console);
    let chat = c.current.clone().ok_or("no current chat: :chats lists them, :take N or :open N picks one")?;
    let n = c.number(&chat);
    Ok((chat, n))
}

/// An SDK error of a command on chat `#n`, as a sentence.
fn failed(what: &str, n: usize, e: &Error) -> String {
    match e {
        Error::Server { kind: ErrorType::Authorization, .. } => {
            format!("{what}: {} (chat #{n} is not yours: :take {n} first?)", describe(e))
        }
        _ => format!("{what}: {}", describe(e)),
    }
}

/// A typed line: a message to the current chat.
pub(super) async fn reply(sdk: &AgentSdk, console: &Shared, text: &str) -> Result<(), String> {
    let (chat, n) = current(console)?;
    sdk.send_message(&chat, text).await.map_err(|e| failed("not sent", n, &e))?;
    Ok(())
}

pub(super) async fn run(out: &Renderer, sdk: &AgentSdk, console: &Shared, cmd: &str, arg: &str) -> Result<(), String> {
    match cmd {
        "help" => out.block(HELP),
        "chats" => chats(out, sdk, console).await?,
        "take" => {
            let chat = lock(console).chat_named(arg)?;
            let n = lock(console).number(&chat);
            sdk.take_chat(&chat).await.map_err(|e| failed("cannot take it", n, &e))?;
            lock(console).current = Some(chat);
            out.ok(&format!("you took chat #{n}: it is the current chat (type to reply)"));
        }
        "open" => {
            let chat = lock(console).chat_named(arg)?;
            lock(console).current = Some(chat.clone());
            history(out, sdk, console, &chat, 1).await?;
        }
        "history" => {
            let (chat, _) = current(console)?;
            history(out, sdk, console, &chat, HISTORY_THREADS).await?;
        }
        "whisper" => {
            if arg.is_empty() {
                return Err("usage: :whisper TEXT".into());
            }
            let (chat, n) = current(console)?;
            sdk.send_whisper(&chat, arg).await.map_err(|e| failed("not sent", n, &e))?;
            out.ok("whispered (agents only)");
        }
        "file" => {
            if arg.is_empty() {
                return Err("usage: :file PATH (a PNG, GIF or JPEG image)".into());
            }
            let (chat, n) = current(console)?;
            let image = ImageFile::path(arg);
            let sent = sdk.send_image(&chat, &image).await.map_err(|e| failed("image not sent", n, &e))?;
            let url = match &sent.kind {
                chatio_agent_sdk::EventKind::RichMessage(r) => {
                    r.elements.iter().find_map(|e| e.image.as_ref()).map(|i| i.url.clone()).unwrap_or_default()
                }
                _ => String::new(),
            };
            out.ok(&format!("sent image {}: {url}", image.name()));
        }
        "seen" => {
            let (chat, n) = current(console)?;
            sdk.update_last_seen_timestamp(&chat, None).await.map_err(|e| failed("seen", n, &e))?;
            out.ok(&format!("chat #{n} marked as seen"));
        }
        "close" => {
            let (chat, n) = current(console)?;
            sdk.close_thread(&chat).await.map_err(|e| failed("cannot close it", n, &e))?;
            out.ok(&format!("closed the thread of chat #{n}"));
        }
        "leave" => {
            let (chat, n) = current(console)?;
            sdk.leave_chat(&chat).await.map_err(|e| failed("cannot leave it", n, &e))?;
            lock(console).current = None;
            out.ok(&format!("left chat #{n}: it goes back to the queue unless another agent is in it"));
        }
        "ban" => {
            let days: u32 = arg.parse().map_err(|_| "usage: :ban DAYS (1 to 3650)")?;
            let (chat, n) = current(console)?;
            let view = sdk.chat(&chat).await.map_err(|e| describe(&e))?;
            let customer = view.as_ref().and_then(|v| v.customer()).map(|u| u.id.clone());
            let customer = customer.ok_or_else(|| format!("chat #{n} has no customer to ban"))?;
            sdk.ban_customer(&customer, days).await.map_err(|e| failed("cannot ban", n, &e))?;
            let name = lock(console).name(&customer);
            out.ok(&format!("{name} is banned for {days} days"));
        }
        "status" => {
            let status = match arg {
                "on" | "accepting" | "accepting_chats" => RoutingStatus::AcceptingChats,
                "off" | "not_accepting" | "not_accepting_chats" => RoutingStatus::NotAcceptingChats,
                _ => return Err("usage: :status on|off (accepting chats or not)".into()),
            };
            sdk.set_routing_status(status.clone()).await.map_err(|e| describe(&e))?;
            out.ok(&format!("routing status set: {status}"));
        }
        other => return Err(format!("no command `:{other}`")),
    }
    Ok(())
}

/// `:chats`: this agent's active chats, then the queue.
async fn chats(out: &Renderer, sdk: &AgentSdk, console: &Shared) -> Result<(), String> {
    let mine = sdk.my_chats().await.map_err(|e| describe(&e))?;
    let waiting = sdk.waiting_chats().await.map_err(|e| describe(&e))?;
    if mine.is_empty() && waiting.is_empty() {
        out.ok("no chats: new ones appear here as customers start them");
        return Ok(());
    }
    let lines = {
        let mut c = lock(console);
        super::show::learn_chats(&mut c, &mine);
        super::show::learn_chats(&mut c, &waiting);
        let mut lines = vec![format!("yours ({}):", mine.len())];
        lines.extend(mine.iter().map(|v| chat_line(out, &mut c, v)));
        lines.push(format!("waiting ({}), :take N to answer one:", waiting.len()));
        lines.extend(waiting.iter().map(|v| chat_line(out, &mut c, v)));
        lines
    };
    out.block(&lines.join("\n"));
    Ok(())
}

/// The conversation of a chat: its newest `threads` threads, oldest first.
async fn history(
    out: &Renderer,
    sdk: &AgentSdk,
    console: &Shared,
    chat: &ChatId,
    threads: usize,
) -> Result<(), String> {
    let n = lock(console).number(chat);
    let view = sdk.chat(chat).await.map_err(|e| describe(&e))?;
    let mut ids: Vec<_> = view.and_then(|v| v.thread).map(|t| vec![t.id]).unwrap_or_default();
    let first = sdk.chat_threads(chat, &ids).await.map_err(|e| failed("history", n, &e))?;
    let all = first.threads_summary.iter().map(|t| t.thread_id.clone()).collect::<Vec<_>>();
    let got = if threads > 1 && all.len() > ids.len() {
        ids = all[all.len().saturating_sub(threads)..].to_vec();
        sdk.chat_threads(chat, &ids).await.map_err(|e| failed("history", n, &e))?
    } else {
        first
    };
    let lines = {
        let mut c = lock(console);
        for u in &got.chat.users {
            c.names.insert(u.id.clone(), display_name(u));
        }
        let mut lines = vec![format!("chat #{n} ({}):", plural(got.threads_summary.len(), "thread"))];
        for t in &got.chat.threads {
            lines.push(format!("  thread {}{}", t.id, if t.active { "" } else { " (closed)" }));
            lines.extend(t.events.iter().map(|e| format!("    {}", event_text(out, &c, e))));
        }
        lines
    };
    out.block(&lines.join("\n"));
    // Shown is read: the unread count starts again (a chat the agent only watches may refuse).
    let _ = sdk.update_last_seen_timestamp(chat, None).await;
    out.ok(&format!("chat #{n} is the current chat (type to reply)"));
    Ok(())
}
