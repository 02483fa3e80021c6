/*
 * dcm_bridge.cc — harmonic's only C++ file: DICOM SR <-> plain C structures
 * (hm_dicom.h) through DCMTK's dcmdata.  Everything that interprets the
 * content (templates, units, registry) is C above this file.
 *
 * Reading always goes through memory (the file is slurped first), so the
 * fuzz target exercises exactly the code path real files take.
 */
#include "hm_dicom.h"
#include "dcm_internal.hh"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/oflog/oflog.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace {

/* Largest file we agree to read: RDSRs are kilobytes to a few megabytes. */
const size_t kMaxFileBytes = 256u << 20;
/* Deeper SR trees than this are not dose reports (TID 10001 nests 4 levels). */
const int kMaxDepth = 64;

void quiet_dcmtk()
{
    /* The library never prints: silence DCMTK's logger once. */
    static bool done = false;
    if (!done) {
        OFLog::configure(OFLogger::OFF_LOG_LEVEL);
        done = true;
    }
}

void copy_str(char *dst, size_t size, const OFString &src)
{
    size_t n = src.length() < size - 1 ? src.length() : size - 1;
    memcpy(dst, src.c_str(), n);
    dst[n] = '\0';
    /* Trailing pad spaces are not part of DICOM values. */
    while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '\0'))
        dst[--n] = '\0';
}

void get_str(DcmItem *item, const DcmTagKey &tag, char *dst, size_t size)
{
    OFString s;
    dst[0] = '\0';
    if (item->findAndGetOFStringArray(tag, s, OFFalse).good())
        copy_str(dst, size, s);
}

void get_code(DcmItem *item, const DcmTagKey &seqTag, hm_dcm_code *code)
{
    DcmItem *ci = NULL;
    memset(code, 0, sizeof *code);
    if (item->findAndGetSequenceItem(seqTag, ci, 0).bad() || !ci)
        return;
    get_str(ci, DCM_CodeValue, code->value, sizeof code->value);
    if (!code->value[0])
        get_str(ci, DCM_LongCodeValue, code->value, sizeof code->value);
    if (!code->value[0])
        get_str(ci, DCM_URNCodeValue, code->value, sizeof code->value);
    get_str(ci, DCM_CodingSchemeDesignator, code->scheme, sizeof code->scheme);
    get_str(ci, DCM_CodeMeaning, code->meaning, sizeof code->meaning);
}

int fill_item(DcmItem *src, hm_dcm_item *it)
{
    get_str(src, DCM_RelationshipType, it->relationship, sizeof it->relationship);
    get_str(src, DCM_ValueType, it->value_type, sizeof it->value_type);
    get_code(src, DCM_ConceptNameCodeSequence, &it->concept);
    const char *vt = it->value_type;
    if (!strcmp(vt, "NUM")) {
        DcmItem *mv = NULL;
        if (src->findAndGetSequenceItem(DCM_MeasuredValueSequence, mv, 0).good() && mv) {
            get_str(mv, DCM_NumericValue, it->number_text, sizeof it->number_text);
            get_code(mv, DCM_MeasurementUnitsCodeSequence, &it->unit);
            if (it->number_text[0]) {
                char *end = NULL;
                errno = 0;
                double v = strtod(it->number_text, &end);
                while (end && *end == ' ')
                    end++;
                if (end && *end == '\0' && end != it->number_text && errno == 0 && v == v) {
                    it->number = v;
                    it->has_number = 1;
                }
            }
        }
        get_code(src, DCM_NumericValueQualifierCodeSequence, &it->qualifier);
    } else if (!strcmp(vt, "CODE")) {
        get_code(src, DCM_ConceptCodeSequence, &it->coded);
    } else if (!strcmp(vt, "TEXT")) {
        get_str(src, DCM_TextValue, it->text, sizeof it->text);
    } else if (!strcmp(vt, "UIDREF")) {
        get_str(src, DCM_UID, it->text, sizeof it->text);
    } else if (!strcmp(vt, "DATETIME")) {
        get_str(src, DCM_DateTime, it->text, sizeof it->text);
    } else if (!strcmp(vt, "DATE")) {
        get_str(src, DCM_Date, it->text, sizeof it->text);
    } else if (!strcmp(vt, "TIME")) {
        get_str(src, DCM_Time, it->text, sizeof it->text);
    } else if (!strcmp(vt, "PNAME")) {
        get_str(src, DCM_PersonName, it->text, sizeof it->text);
    } else if (!strcmp(vt, "IMAGE") || !strcmp(vt, "COMPOSITE")) {
        /* The referenced SOP class tells what was acquired (DX, XA, RF image). */
        DcmItem *ref = NULL;
        if (src->findAndGetSequenceItem(DCM_ReferencedSOPSequence, ref, 0).good() && ref)
            get_str(ref, DCM_ReferencedSOPClassUID, it->text, sizeof it->text);
    }
    return 0;
}

/* Depth-first walk of ContentSequence, iterative over siblings and recursive
 * over depth (bounded by kMaxDepth). */
int walk(DcmItem *node, int depth, hm_dcm_doc *doc, const char *name, hm_error *err)
{
    if (depth > kMaxDepth)
        return hm_error_set(err, HM_EPARSE, name, 0, "ContentSequence",
                            "SR content nested deeper than %d levels: corrupt file", kMaxDepth);
    DcmSequenceOfItems *seq = NULL;
    if (node->findAndGetSequence(DCM_ContentSequence, seq).bad() || !seq)
        return 0;
    for (unsigned long i = 0; i < seq->card(); i++) {
        DcmItem *child = seq->getItem(i);
        if (!child)
            continue;
        hm_dcm_item *it = hm_dcm_doc_append(doc, depth);
        if (!it)
            return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
        fill_item(child, it);
        int rc = walk(child, depth + 1, doc, name, err);
        if (rc)
            return rc;
    }
    return 0;
}

void fill_attrs(DcmDataset *ds, hm_dcm_attrs *a)
{
    get_str(ds, DCM_SOPClassUID, a->sop_class_uid, sizeof a->sop_class_uid);
    get_str(ds, DCM_SOPInstanceUID, a->sop_instance_uid, sizeof a->sop_instance_uid);
    get_str(ds, DCM_Modality, a->modality, sizeof a->modality);
    get_str(ds, DCM_SpecificCharacterSet, a->charset, sizeof a->charset);
    get_str(ds, DCM_CompletionFlag, a->completion_flag, sizeof a->completion_flag);
    get_str(ds, DCM_PatientID, a->patient_id, sizeof a->patient_id);
    get_str(ds, DCM_PatientBirthDate, a->patient_birth_date, sizeof a->patient_birth_date);
    get_str(ds, DCM_PatientSex, a->patient_sex, sizeof a->patient_sex);
    get_str(ds, DCM_PatientAge, a->patient_age, sizeof a->patient_age);
    get_str(ds, DCM_PatientWeight, a->patient_weight_kg, sizeof a->patient_weight_kg);
    get_str(ds, DCM_PatientSize, a->patient_size_m, sizeof a->patient_size_m);
    get_str(ds, DCM_StudyInstanceUID, a->study_uid, sizeof a->study_uid);
    get_str(ds, DCM_SeriesInstanceUID, a->series_uid, sizeof a->series_uid);
    get_str(ds, DCM_StudyDate, a->study_date, sizeof a->study_date);
    get_str(ds, DCM_StudyTime, a->study_time, sizeof a->study_time);
    get_str(ds, DCM_Manufacturer, a->manufacturer, sizeof a->manufacturer);
    get_str(ds, DCM_ManufacturerModelName, a->model, sizeof a->model);
    get_str(ds, DCM_DeviceSerialNumber, a->device_serial, sizeof a->device_serial);
    get_str(ds, DCM_StationName, a->station, sizeof a->station);
    get_str(ds, DCM_InstitutionName, a->institution, sizeof a->institution);
    DcmItem *t = NULL;
    if (ds->findAndGetSequenceItem(DCM_ContentTemplateSequence, t, 0).good() && t)
        get_str(t, DCM_TemplateIdentifier, a->template_id, sizeof a->template_id);
}

/*
 * A memory stream that, like DCMTK's file streams, can re-open itself at an
 * offset.  DCMTK then defers values longer than maxReadLength (4 KiB) instead
 * of allocating them while parsing: a corrupt length of gigabytes is skipped,
 * runs into the end of the data and fails the read, without the allocation
 * DcmInputBufferStream (which cannot re-open) would make first.  Deferred
 * values are loaded, from the same buffer, only if accessed.
 */
class MemStream;

class MemFactory : public DcmInputStreamFactory {
public:
    MemFactory(const void *base, size_t size, offile_off_t off)
        : base_(base), size_(size), off_(off) {}
    DcmInputStream *create() const override;
    DcmInputStreamFactory *clone() const override { return new MemFactory(*this); }
    DcmInputStreamFactoryType ident() const override { return DFT_DcmInputFileStreamFactory; }
private:
    const void  *base_;
    size_t       size_;
    offile_off_t off_;
};

class MemStream : public DcmInputBufferStream {
public:
    MemStream(const void *base, size_t size) : base_(base), size_(size)
    {
        setBuffer(base, static_cast<offile_off_t>(size));
        setEos();
    }
    DcmInputStreamFactory *newFactory() const override
    {
        return new MemFactory(base_, size_, tell());
    }
private:
    const void *base_;
    size_t      size_;
};

DcmInputStream *MemFactory::create() const
{
    MemStream *s = new MemStream(base_, size_);
    if (off_ > 0)
        s->skip(off_);
    return s;
}

/* Reads a 16- or 32-bit unsigned integer in the given byte order. */
unsigned rd16(const unsigned char *p, bool big) { return big ? (p[0] << 8u) | p[1] : p[0] | (p[1] << 8u); }
unsigned long rd32(const unsigned char *p, bool big)
{
    return big ? ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8) | p[3]
               : p[0] | ((unsigned long)p[1] << 8) | ((unsigned long)p[2] << 16) | ((unsigned long)p[3] << 24);
}

/* DCMTK allocates an element's declared length before reading it, so a
 * corrupt 4-byte length in a small file would make it allocate gigabytes.
 * This pass walks the element headers (PS3.5 §7.1: explicit VR with 2- or
 * 4-byte lengths, implicit VR with 4-byte lengths; §7.5 sequences and items)
 * and refuses any value that runs past the end of the data.  Sequences are
 * entered, not skipped, so nested lengths are checked too. */
int check_lengths(const unsigned char *b, size_t size, size_t pos, bool explicit_start,
                  const char *name, hm_error *err)
{
    /* VRs with a 2-byte length; every other VR, including a non-standard
     * one, has 2 reserved bytes and a 4-byte length (as DCMTK assumes). */
    static const char *short_vrs[] = { "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL",
                                       "IS", "LO", "LT", "PN", "SH", "SL", "SS", "ST", "TM",
                                       "UI", "UL", "US" };
    bool explicit_vr = explicit_start, big = false, in_meta = true;
    while (pos < size) {
        if (size - pos < 8)
            return hm_error_set(err, HM_EPARSE, name, 0, NULL,
                                "truncated or corrupt DICOM file (%zu stray bytes at the end)",
                                size - pos);
        /* The meta header (group 0002) is always explicit little endian; the
         * dataset follows in the transfer syntax it names. */
        if (in_meta && rd16(b + pos, false) != 0x0002)
            in_meta = false;
        bool bigd = !in_meta && big;
        unsigned group = rd16(b + pos, bigd), elem = rd16(b + pos + 2, bigd);
        size_t header = 8;
        unsigned long len;
        bool sq = false;
        if (group == 0xFFFE) {
            /* Item and delimiters: a defined-length item is entered. */
            pos += 8;
            continue;
        }
        if (explicit_vr || in_meta) {
            char vr[3] = { (char)b[pos + 4], (char)b[pos + 5], 0 };
            bool is_long = true;
            for (const char *v : short_vrs)
                if (!strcmp(vr, v))
                    is_long = false;
            if (is_long) {
                if (size - pos < 12)
                    return hm_error_set(err, HM_EPARSE, name, 0, NULL,
                                        "truncated or corrupt DICOM file (cut element header)");
                len = rd32(b + pos + 8, bigd);
                header = 12;
            } else {
                len = rd16(b + pos + 6, bigd);
            }
            sq = !strcmp(vr, "SQ") || (!strcmp(vr, "UN") && len == 0xFFFFFFFFul);
        } else {
            len = rd32(b + pos + 4, bigd);
            sq = DcmTag(DcmTagKey((Uint16)group, (Uint16)elem)).getEVR() == EVR_SQ
                 || len == 0xFFFFFFFFul;
        }
        if (!sq && len == 0xFFFFFFFFul && group == 0x7FE0 && elem == 0x0010) {
            /* Encapsulated (compressed) pixel data, PS3.5 A.4: fragment
             * items of raw bytes up to a sequence delimiter; skip each
             * fragment by its length instead of parsing it as elements. */
            pos += header;
            while (pos + 8 <= size && rd16(b + pos, bigd) == 0xFFFE
                   && rd16(b + pos + 2, bigd) == 0xE000) {
                unsigned long flen = rd32(b + pos + 4, bigd);
                if (flen > size - pos - 8)
                    return hm_error_set(err, HM_EPARSE, name, 0, NULL,
                                        "truncated or corrupt DICOM file (pixel data fragment "
                                        "declares %lu bytes, %zu remain)", flen, size - pos - 8);
                pos += 8 + flen;
            }
            continue;           /* the sequence delimiter is read as an item */
        }
        if (sq || len == 0xFFFFFFFFul) {
            pos += header;      /* enter the sequence: its items follow */
            continue;
        }
        if (len > size - pos - header)
            return hm_error_set(err, HM_EPARSE, name, 0, NULL,
                                "truncated or corrupt DICOM file (element (%04x,%04x) declares "
                                "%lu bytes, %zu remain)", group, elem, len, size - pos - header);
        if (in_meta && group == 0x0002 && elem == 0x0010) {
            /* Transfer Syntax UID decides how the dataset is encoded. */
            std::string ts(reinterpret_cast<const char *>(b + pos + header), len);
            while (!ts.empty() && (ts.back() == '\0' || ts.back() == ' '))
                ts.pop_back();
            explicit_vr = ts != "1.2.840.10008.1.2";
            big = ts == "1.2.840.10008.1.2.2";
            if (ts == "1.2.840.10008.1.2.1.99")
                return 0;   /* deflated: lengths are checked by zlib and DCMTK */
        }
        pos += header + len;
    }
    return 0;
}

} // namespace

/* Checks and parses a buffer into ff (shared with dcm_rt_bridge.cc through
 * dcm_internal.hh): the length pre-pass, then DCMTK's parser. */
int hm_dcm_parse_buffer(const void *data, size_t size, const char *name, DcmFileFormat &ff,
                        hm_error *err)
{
    const unsigned char *b = static_cast<const unsigned char *>(data);
    bool part10 = size >= 132 && memcmp(b + 128, "DICM", 4) == 0;
    /* Without the Part 10 preamble accept only what starts like a bare
     * little-endian dataset (group 0002 or 0008 first): anything else would
     * be parsed by DCMTK as garbage tags. */
    bool bare = !part10 && size >= 8 && b[1] == 0x00 && (b[0] == 0x02 || b[0] == 0x08)
                && b[3] == 0x00;
    if (!part10 && !bare)
        return hm_error_set(err, HM_EPARSE, name, 0, NULL,
                            "not a DICOM file (no 'DICM' marker at byte 128 and no dataset)");

    /* A bare dataset is explicit VR when the bytes after its first tag are a VR. */
    bool bare_explicit = size >= 6 && b[4] >= 'A' && b[4] <= 'Z' && b[5] >= 'A' && b[5] <= 'Z';
    int lrc = check_lengths(b, size, part10 ? 132 : 0, part10 || bare_explicit, name, err);
    if (lrc)
        return lrc;

    quiet_dcmtk();
    MemStream in(data, size);
    ff.transferInit();
    OFCondition cond = ff.read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    /* DCMTK stops quietly at the end of a cut buffer: a dataset that is not
     * completely read (transfer state not "ready") is truncated. */
    bool complete = ff.transferState() == ERW_ready && ff.getDataset()->transferState() == ERW_ready;
    ff.transferEnd();
    if (cond.good() && !complete)
        cond = EC_StreamNotifyClient;
    if (cond.bad() && cond == EC_StreamNotifyClient)
        return hm_error_set(err, HM_EPARSE, name, 0, NULL,
                            "truncated or corrupt DICOM file (data end in the middle of an element)");
    if (cond.bad())
        return hm_error_set(err, HM_EPARSE, name, 0, NULL,
                            "truncated or corrupt DICOM file (%s)", cond.text());
    return 0;
}

namespace {

int read_dataset(const void *data, size_t size, const char *name, hm_dcm_doc *doc,
                 hm_error *err)
{
    DcmFileFormat ff;
    int prc = hm_dcm_parse_buffer(data, size, name, ff, err);
    if (prc)
        return prc;
    DcmDataset *ds = ff.getDataset();
    E_TransferSyntax xfer = ds->getOriginalXfer();
    DcmXfer xf(xfer);
    snprintf(doc->attrs.transfer_syntax, sizeof doc->attrs.transfer_syntax, "%s",
             xf.getXferID() ? xf.getXferID() : "");
    doc->implicit_vr = xfer == EXS_LittleEndianImplicit;
    fill_attrs(ds, &doc->attrs);

    /* The dataset itself is the SR root content item. */
    hm_dcm_item *root = hm_dcm_doc_append(doc, 0);
    if (!root)
        return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
    fill_item(ds, root);
    if (strcmp(root->value_type, "CONTAINER") != 0) {
        const char *sop = doc->attrs.sop_class_uid;
        const char *sopname = sop[0] ? dcmFindNameOfUID(sop, sop) : "none";
        return hm_error_set(err, HM_EUNSUPPORTED, name, 0, "ValueType",
                            "not a DICOM structured report (SOP class %s, modality %s)",
                            sopname, doc->attrs.modality[0] ? doc->attrs.modality : "none");
    }
    return walk(ds, 1, doc, name, err);
}

/* ---- writer ---------------------------------------------------------- */

OFCondition put_code(DcmItem *parent, const DcmTagKey &seqTag, const hm_dcm_code *c)
{
    DcmItem *ci = NULL;
    OFCondition cond = parent->findOrCreateSequenceItem(seqTag, ci, -2);
    if (cond.bad())
        return cond;
    cond = ci->putAndInsertString(DCM_CodeValue, c->value);
    if (cond.good())
        cond = ci->putAndInsertString(DCM_CodingSchemeDesignator, c->scheme);
    if (cond.good())
        cond = ci->putAndInsertString(DCM_CodeMeaning, c->meaning);
    return cond;
}

OFCondition put_item(DcmItem *dst, const hm_dcm_item *it)
{
    OFCondition c = EC_Normal;
    if (it->relationship[0])
        c = dst->putAndInsertString(DCM_RelationshipType, it->relationship);
    if (c.good())
        c = dst->putAndInsertString(DCM_ValueType, it->value_type);
    if (c.good() && it->concept.value[0])
        c = put_code(dst, DCM_ConceptNameCodeSequence, &it->concept);
    if (c.bad())
        return c;
    const char *vt = it->value_type;
    if (!strcmp(vt, "CONTAINER")) {
        c = dst->putAndInsertString(DCM_ContinuityOfContent, "SEPARATE");
    } else if (!strcmp(vt, "NUM")) {
        if (it->has_number) {
            DcmItem *mv = NULL;
            c = dst->findOrCreateSequenceItem(DCM_MeasuredValueSequence, mv, -2);
            if (c.good())
                c = mv->putAndInsertString(DCM_NumericValue, it->number_text);
            if (c.good())
                c = put_code(mv, DCM_MeasurementUnitsCodeSequence, &it->unit);
        } else {
            /* An empty value, as some vendors write: the sequence is there
             * with no item. */
            c = dst->insertEmptyElement(DCM_MeasuredValueSequence);
            if (c.good() && it->qualifier.value[0])
                c = put_code(dst, DCM_NumericValueQualifierCodeSequence, &it->qualifier);
        }
    } else if (!strcmp(vt, "CODE")) {
        c = put_code(dst, DCM_ConceptCodeSequence, &it->coded);
    } else if (!strcmp(vt, "TEXT")) {
        c = dst->putAndInsertString(DCM_TextValue, it->text);
    } else if (!strcmp(vt, "UIDREF")) {
        c = dst->putAndInsertString(DCM_UID, it->text);
    } else if (!strcmp(vt, "DATETIME")) {
        c = dst->putAndInsertString(DCM_DateTime, it->text);
    } else if (!strcmp(vt, "DATE")) {
        c = dst->putAndInsertString(DCM_Date, it->text);
    } else if (!strcmp(vt, "TIME")) {
        c = dst->putAndInsertString(DCM_Time, it->text);
    } else if (!strcmp(vt, "PNAME")) {
        c = dst->putAndInsertString(DCM_PersonName, it->text);
    } else if (!strcmp(vt, "IMAGE") || !strcmp(vt, "COMPOSITE")) {
        /* text holds the referenced SOP class; the instance is a new UID. */
        DcmItem *ref = NULL;
        char uid[100];
        c = dst->findOrCreateSequenceItem(DCM_ReferencedSOPSequence, ref, -2);
        if (c.good())
            c = ref->putAndInsertString(DCM_ReferencedSOPClassUID, it->text);
        if (c.good())
            c = ref->putAndInsertString(DCM_ReferencedSOPInstanceUID,
                                        dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
    }
    return c;
}

OFCondition put_attrs(DcmDataset *ds, const hm_dcm_attrs *a, int flags)
{
    char uid[100];
    struct { DcmTagKey tag; const char *value; } v[] = {
        { DCM_SpecificCharacterSet, a->charset },
        { DCM_SOPClassUID, a->sop_class_uid[0] ? a->sop_class_uid : UID_XRayRadiationDoseSRStorage },
        { DCM_SOPInstanceUID, a->sop_instance_uid[0] ? a->sop_instance_uid
                                                     : dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT) },
        { DCM_Modality, a->modality[0] ? a->modality : "SR" },
        { DCM_StudyInstanceUID, a->study_uid },
        { DCM_SeriesInstanceUID, a->series_uid },
        { DCM_StudyDate, a->study_date },
        { DCM_StudyTime, a->study_time },
        { DCM_ContentDate, a->study_date },
        { DCM_ContentTime, a->study_time },
        { DCM_AccessionNumber, "" },
        { DCM_ReferringPhysicianName, "" },
        { DCM_StudyID, "1" },
        { DCM_SeriesNumber, "1" },
        { DCM_InstanceNumber, "1" },
        { DCM_PatientName, "SYNTHETIC^PATIENT" },
        { DCM_PatientID, a->patient_id },
        { DCM_PatientBirthDate, a->patient_birth_date },
        { DCM_PatientSex, a->patient_sex },
        { DCM_PatientAge, a->patient_age },
        { DCM_PatientWeight, a->patient_weight_kg },
        { DCM_PatientSize, a->patient_size_m },
        { DCM_Manufacturer, a->manufacturer },
        { DCM_ManufacturerModelName, a->model },
        { DCM_DeviceSerialNumber, a->device_serial },
        { DCM_StationName, a->station },
        { DCM_InstitutionName, a->institution },
        { DCM_CompletionFlag, a->completion_flag[0] ? a->completion_flag : "COMPLETE" },
        { DCM_VerificationFlag, "UNVERIFIED" },
    };
    OFCondition c = EC_Normal;
    for (size_t i = 0; c.good() && i < sizeof v / sizeof v[0]; i++) {
        /* Optional attributes left empty are omitted, not written empty. */
        bool type2 = v[i].tag == DCM_AccessionNumber || v[i].tag == DCM_ReferringPhysicianName
                     || v[i].tag == DCM_PatientID || v[i].tag == DCM_PatientBirthDate
                     || v[i].tag == DCM_PatientSex || v[i].tag == DCM_Manufacturer
                     || v[i].tag == DCM_StudyDate || v[i].tag == DCM_StudyTime;
        if (v[i].value[0] || type2)
            c = ds->putAndInsertString(v[i].tag, v[i].value);
    }
    if (c.good() && !(flags & HM_DCM_WRITE_NO_TEMPLATE)) {
        DcmItem *t = NULL;
        c = ds->findOrCreateSequenceItem(DCM_ContentTemplateSequence, t, -2);
        if (c.good())
            c = t->putAndInsertString(DCM_MappingResource, "DCMR");
        if (c.good())
            c = t->putAndInsertString(DCM_TemplateIdentifier,
                                      a->template_id[0] ? a->template_id : "10001");
    }
    return c;
}

int write_doc(const char *path, const hm_dcm_doc *doc, int flags, hm_error *err)
{
    if (doc->nitems == 0 || doc->items[0].depth != 0)
        return hm_error_set(err, HM_EINVAL, path, 0, NULL,
                            "SR document must start with a root item at depth 0");
    quiet_dcmtk();
    DcmFileFormat ff;
    DcmDataset *ds = ff.getDataset();
    OFCondition c = put_attrs(ds, &doc->attrs, flags);
    if (c.good())
        c = put_item(ds, &doc->items[0]);
    DcmItem *stack[kMaxDepth + 1];
    stack[0] = ds;
    for (size_t i = 1; c.good() && i < doc->nitems; i++) {
        const hm_dcm_item *it = &doc->items[i];
        if (it->depth < 1 || it->depth > kMaxDepth || it->depth > doc->items[i - 1].depth + 1)
            return hm_error_set(err, HM_EINVAL, path, (long)i, "depth",
                                "item %zu has depth %d after depth %d: not a tree", i,
                                it->depth, doc->items[i - 1].depth);
        DcmItem *node = NULL;
        c = stack[it->depth - 1]->findOrCreateSequenceItem(DCM_ContentSequence, node, -2);
        if (c.good())
            c = put_item(node, it);
        stack[it->depth] = node;
    }
    if (c.bad())
        return hm_error_set(err, HM_EINVAL, path, 0, NULL, "cannot build SR dataset: %s",
                            c.text());
    /* Write beside the target and rename, so a failed write leaves no
     * partial file behind. */
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return hm_error_set(err, HM_EINVAL, path, 0, NULL, "path too long");
    E_TransferSyntax xfer = (flags & HM_DCM_WRITE_IMPLICIT_VR) ? EXS_LittleEndianImplicit
                                                               : EXS_LittleEndianExplicit;
    c = ff.saveFile(tmp, xfer);
    if (c.bad()) {
        remove(tmp);
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write: %s", c.text());
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot rename %s: %s", tmp,
                            strerror(errno));
    }
    return 0;
}

} // namespace

extern "C" {

hm_dcm_item *hm_dcm_doc_append(hm_dcm_doc *doc, int depth)
{
    if (doc->nitems == doc->cap) {
        size_t cap = doc->cap ? doc->cap * 2 : 256;
        void *p = realloc(doc->items, cap * sizeof *doc->items);
        if (!p)
            return NULL;
        doc->items = static_cast<hm_dcm_item *>(p);
        doc->cap = cap;
    }
    hm_dcm_item *it = &doc->items[doc->nitems++];
    memset(it, 0, sizeof *it);
    it->depth = depth;
    return it;
}

void hm_dcm_doc_free(hm_dcm_doc *doc)
{
    if (!doc)
        return;
    free(doc->items);
    memset(doc, 0, sizeof *doc);
}

int hm_dcm_read_memory(const void *data, size_t size, const char *name, hm_dcm_doc *doc,
                       hm_error *err)
{
    memset(doc, 0, sizeof *doc);
    if (!name)
        name = "(memory)";
    try {
        return read_dataset(data, size, name, doc, err);
    } catch (const std::bad_alloc &) {
        return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory reading DICOM");
    } catch (...) {
        return hm_error_set(err, HM_EPARSE, name, 0, NULL, "corrupt DICOM file");
    }
}

int hm_dcm_slurp(const char *path, unsigned char **out, size_t *outlen, hm_error *err)
{
    *out = NULL;
    *outlen = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot open: %s", strerror(errno));
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= kMaxFileBytes) {
                rc = hm_error_set(err, HM_EPARSE, path, 0, NULL,
                                  "larger than %zu MiB: not a dose report", kMaxFileBytes >> 20);
                break;
            }
            cap = cap ? cap * 2 : 1 << 16;
            void *p = realloc(buf, cap);
            if (!p) {
                rc = hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
                break;
            }
            buf = static_cast<unsigned char *>(p);
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) {
            if (ferror(fp))
                rc = hm_error_set(err, HM_EIO, path, 0, NULL, "read error: %s", strerror(errno));
            break;
        }
    }
    fclose(fp);
    if (rc == 0) {
        *out = buf;
        *outlen = len;
    } else {
        free(buf);
    }
    return rc;
}

int hm_dcm_read_file(const char *path, hm_dcm_doc *doc, hm_error *err)
{
    memset(doc, 0, sizeof *doc);
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = hm_dcm_slurp(path, &buf, &len, err);
    if (rc == 0)
        rc = hm_dcm_read_memory(buf, len, path, doc, err);
    free(buf);
    return rc;
}

int hm_dcm_write_file(const char *path, const hm_dcm_doc *doc, int flags, hm_error *err)
{
    try {
        return write_doc(path, doc, flags, err);
    } catch (const std::bad_alloc &) {
        return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory writing DICOM");
    }
}

} // extern "C"
