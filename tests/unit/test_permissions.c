#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/apikeys.h"
#include "api/permissions.h"
#include "http/form.h"
#include "util/arena.h"

static int valid(const char *name, enum role_type t)
{
    return permission_valid(name, strlen(name), t);
}

static const char *const both[] = {
    "addParticipant",
    "addNonChatParticipant",
    "deleteAnyMessage",
    "deleteConversation",
    "deleteOwnMessage",
    "editAnyMessage",
    "editAnyMessageAttributes",
    "editAnyParticipantAttributes",
    "editConversationAttributes",
    "editConversationName",
    "editOwnMessage",
    "editOwnMessageAttributes",
    "editOwnParticipantAttributes",
    "removeParticipant",
};
static const char *const conversation_only[] = {"editNotificationLevel", "leaveConversation", "sendMessage",
                                                "sendMediaMessage"};
static const char *const service_only[] = {"createConversation", "editAnyUserInfo", "editOwnUserInfo",
                                           "joinConversation"};

static void test_scopes(void **state)
{
    for (size_t i = 0; i < sizeof(both) / sizeof(both[0]); i++) {
        assert_true(valid(both[i], ROLE_SERVICE));
        assert_true(valid(both[i], ROLE_CONVERSATION));
    }
    for (size_t i = 0; i < sizeof(conversation_only) / sizeof(conversation_only[0]); i++) {
        assert_false(valid(conversation_only[i], ROLE_SERVICE));
        assert_true(valid(conversation_only[i], ROLE_CONVERSATION));
    }
    for (size_t i = 0; i < sizeof(service_only) / sizeof(service_only[0]); i++) {
        assert_true(valid(service_only[i], ROLE_SERVICE));
        assert_false(valid(service_only[i], ROLE_CONVERSATION));
    }
}

static void test_unknown_names(void **state)
{
    const char *bad[] = {"",
                         "sendmessage",
                         "SendMessage",
                         "sendMessage ",
                         " sendMessage",
                         "sendMessages",
                         "send",
                         "editAnyUserInfo\n",
                         "foo",
                         "addParticipant,sendMessage"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(valid(bad[i], ROLE_SERVICE));
        assert_false(valid(bad[i], ROLE_CONVERSATION));
    }
    /* the length is honoured: a valid prefix of a longer buffer */
    assert_true(permission_valid("sendMessageXYZ", 11, ROLE_CONVERSATION));
    assert_false(permission_valid("sendMessage", 4, ROLE_CONVERSATION));
}

static void test_role_type(void **state)
{
    enum role_type t = ROLE_SERVICE;
    assert_int_equal(role_type_parse("conversation", 12, &t), 0);
    assert_int_equal(t, ROLE_CONVERSATION);
    assert_int_equal(role_type_parse("service", 7, &t), 0);
    assert_int_equal(t, ROLE_SERVICE);
    assert_int_equal(role_type_parse("Service", 7, &t), -1);
    assert_int_equal(role_type_parse("channel", 7, &t), -1);
    assert_int_equal(role_type_parse("", 0, &t), -1);
    assert_int_equal(role_type_parse("services", 8, &t), -1);
}

static char *list_of(struct arena *a, const char *body, enum role_type t, const char **bad)
{
    char *copy = arena_strndup(a, body, strlen(body));
    struct form *f = arena_alloc(a, sizeof(*f));
    assert_int_equal(form_decode(copy, strlen(body), f), 0);
    *bad = NULL;
    return permissions_json(f, "Permission", t, a, bad);
}

static void test_json_list(void **state)
{
    struct arena a;
    arena_init(&a);
    const char *bad;
    assert_string_equal(list_of(&a, "Permission=sendMessage", ROLE_CONVERSATION, &bad), "[\"sendMessage\"]");
    /* order kept, later duplicates dropped, other keys ignored */
    assert_string_equal(list_of(&a,
                                "Permission=sendMessage&FriendlyName=x&Permission=leaveConversation&"
                                "Permission=sendMessage&Permission=addParticipant",
                                ROLE_CONVERSATION, &bad),
                        "[\"sendMessage\",\"leaveConversation\",\"addParticipant\"]");
    /* an empty value is no permission: refused, not dropped */
    assert_null(
        list_of(&a, "Permission=sendMessage&Permission=&Permission=addParticipant", ROLE_CONVERSATION, &bad));
    assert_string_equal(bad, "");
    assert_string_equal(list_of(&a, "FriendlyName=x", ROLE_SERVICE, &bad), "[]");
    /* the first invalid name is reported */
    assert_null(list_of(&a, "Permission=joinConversation&Permission=sendMessage&Permission=nope",
                        ROLE_SERVICE, &bad));
    assert_string_equal(bad, "sendMessage");
    assert_null(list_of(&a, "Permission=%22%5D", ROLE_SERVICE, &bad));
    assert_string_equal(bad, "\"]");
    arena_free(&a);
}

/* Every default role of a new service (api/services.c) holds only names valid for its type. */
static void test_default_roles_are_valid(void **state)
{
    const char *svc[] = {"createConversation",
                         "joinConversation",
                         "deleteConversation",
                         "addParticipant",
                         "removeParticipant",
                         "editConversationName",
                         "editConversationAttributes",
                         "editAnyMessage",
                         "editAnyMessageAttributes",
                         "deleteAnyMessage",
                         "editAnyUserInfo",
                         "editOwnUserInfo"};
    const char *conv[] = {"deleteConversation",
                          "removeParticipant",
                          "editConversationName",
                          "editConversationAttributes",
                          "addParticipant",
                          "sendMessage",
                          "sendMediaMessage",
                          "leaveConversation",
                          "editAnyMessage",
                          "editAnyMessageAttributes",
                          "editAnyParticipantAttributes",
                          "deleteAnyMessage",
                          "editNotificationLevel",
                          "editOwnMessage",
                          "editOwnMessageAttributes",
                          "deleteOwnMessage",
                          "editOwnParticipantAttributes"};
    for (size_t i = 0; i < sizeof(svc) / sizeof(svc[0]); i++)
        assert_true(valid(svc[i], ROLE_SERVICE));
    for (size_t i = 0; i < sizeof(conv) / sizeof(conv[0]); i++)
        assert_true(valid(conv[i], ROLE_CONVERSATION));
}

/* API key secrets: salted SHA-256, verified in constant time. */
static void test_apikey_hash(void **state)
{
    const char *salt = "000102030405060708090a0b0c0d0e0f";
    char h[APIKEY_HASH_HEX + 1], h2[APIKEY_HASH_HEX + 1];
    assert_int_equal(apikey_hash(salt, "secret", 6, h), 0);
    assert_int_equal(strlen(h), APIKEY_HASH_HEX);
    assert_true(apikey_verify(salt, h, "secret", 6));
    assert_false(apikey_verify(salt, h, "secreT", 6));
    assert_false(apikey_verify(salt, h, "secret", 5));
    assert_false(apikey_verify(salt, h, "secret!", 7));
    assert_false(apikey_verify(salt, h, "", 0));
    /* another salt, another hash */
    assert_int_equal(apikey_hash("ff0102030405060708090a0b0c0d0e0f", "secret", 6, h2), 0);
    assert_string_not_equal(h, h2);
    assert_false(apikey_verify("ff0102030405060708090a0b0c0d0e0f", h, "secret", 6));
    /* known value: sha256(bytes 00..0f || "secret") */
    assert_string_equal(h, "67557c0d86179c45199f096d85b7aeb2b8b34bf423c403ba517f72bcc5913c4c");
    /* malformed salt or stored hash never verifies */
    assert_int_equal(apikey_hash("0001", "secret", 6, h2), -1);
    assert_int_equal(apikey_hash("zz0102030405060708090a0b0c0d0e0f", "secret", 6, h2), -1);
    assert_false(apikey_verify(salt, "abc", "secret", 6));
    assert_false(apikey_verify(NULL, h, "secret", 6));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_role_type),
        cmocka_unit_test(test_json_list),
        cmocka_unit_test(test_default_roles_are_valid),
        cmocka_unit_test(test_apikey_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
