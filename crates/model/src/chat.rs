//! Chat templates: the model's own `tokenizer.chat_template` (Jinja) rendered with minijinja, with the
//! Python-compatible string methods templates use (`.strip()`, `.startswith()`, ...).

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Self {
        Message {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// Render `messages` with `template`; `add_generation_prompt` opens the assistant's turn.
pub fn render(
    template: &str,
    messages: &[Message],
    add_generation_prompt: bool,
    bos: &str,
    eos: &str,
) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function(
        "raise_exception",
        |msg: String| -> Result<String, minijinja::Error> {
            Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                msg,
            ))
        },
    );
    env.add_template("chat", template)
        .map_err(|e| format!("the chat template does not parse: {e}"))?;
    let t = env.get_template("chat").map_err(|e| e.to_string())?;
    t.render(minijinja::context! { messages => messages, add_generation_prompt => add_generation_prompt, bos_token => bos, eos_token => eos })
        .map_err(|e| format!("the chat template failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_like_template() {
        let t = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content | trim }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
        let s = render(t, &[Message::new("user", " Hi ")], true, "", "").unwrap();
        assert_eq!(s, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
        let py = "{{ messages[0]['content'].strip().upper() }}";
        assert_eq!(
            render(py, &[Message::new("user", " ok ")], false, "", "").unwrap(),
            "OK"
        );
        assert!(render(
            "{{ raise_exception('no system role') }}",
            &[],
            false,
            "",
            ""
        )
        .unwrap_err()
        .contains("no system role"));
    }
}
